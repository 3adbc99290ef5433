/* dates.h: dates, date ranges and time-of-day windows in a token array (pass 3 of text.h).
 *
 * dates_apply() rewrites d->toks in place: each date expression becomes one TOK_DATE
 * (from, to: a half-open UTC range in microseconds; grain) and each time-of-day window
 * one TOK_TIMEWIN (from, to: seconds since local midnight, to <= 86400). Civil dates are
 * read in the zone set by utc_set_zone() (VABOT_TZ, default UTC) and resolved against
 * `now`. It never fails: an expression that is recognizable but impossible ("31
 * февраля", a year 99999, a range that ends before it starts) becomes a token with
 * TOK_F_BAD_DATE and from = to = 0, for the grammar to refuse. Nothing allocates.
 *
 * Recognized (the words around them, such as "в", "за", "на", "в период", are left for
 * the grammar; "с/со ... по/до", "от ... до", "между ... и", "включительно" are consumed):
 *   days     "28 ноября 2025 [года|г.]", "28.11.2025", "28.11.25", "2025-11-28",
 *            "28-11-2025", "28.11", "28 ноября", "1-го ноября"
 *   months   "июнь 2025", "в июне 2025 года", "ноября 2025 года", "за ноябрь", "ноя 2025"
 *   years    "2025 год", "в 2025 году", "2025 г."
 *   relative сегодня вчера позавчера завтра; "вчерашний [день]"; "за последние 7|семь
 *            дней|недель|месяцев|лет|часов", "за последнюю неделю", "за последний месяц";
 *            "на прошлой|этой|позапрошлой неделе", "в прошлом|этом месяце",
 *            "в прошлом|этом году" (also текущий, предыдущий)
 *   ranges   "с X по Y", "с X до Y", "от X до Y", "между X и Y", "X - Y", where X may
 *            leave out what Y says ("с 1 по 5 ноября 2025", "с 1 ноября по 5 ноября
 *            2025") and Y what X says ("с 19 августа 2025 по 17 ноября")
 *   windows  "с 10:00 до 15:00", "с 10 до 15 часов", "между 10 и 15 часами",
 *            "10-15 часов", "с 10.00 до 15.00", "с 23:00 до 24:00"
 *
 * Decisions:
 * - Every date denotes a whole period, and a range runs from the start of its first
 *   period to the end of its last: "с 1 по 5 ноября", "с 1 до 5 ноября", "от 1 до 5
 *   ноября" and "между 1 и 5 ноября" are all [Nov 1, Nov 6), grain span. A time of day is
 *   an instant, so a window ends at its second time: "с 10:00 до 15:00" is [10:00, 15:00);
 *   "до 00:00" or "до 24:00" ends at midnight (86400).
 * - Without a year, a day or month is the most recent one that starts not after now; in
 *   a range, the end takes the start's year (one more when it would end before the
 *   start), and a start without a year takes the end's (one less likewise).
 * - "за последние N дней" is the N calendar days ending with today, today included;
 *   weeks are 7 days; "за последние N месяцев|лет" runs from the day after the same date
 *   N months or years back (clamped to the month's end) to the end of today; "за
 *   последние N часов" is the N clock hours ending with the current one. Grain is day,
 *   hour, ... for N = 1 of days or hours, else span.
 * - "на прошлой неделе" is the previous Monday to Sunday; "на этой неделе" the current
 *   one, including days still to come (likewise "в этом месяце", "в этом году").
 * - A bare hour range "с 10 до 15" is not a window without "часов"/"ч" (it may be days). */
#ifndef VABOT_DATES_H
#define VABOT_DATES_H

#include <stddef.h>
#include <stdint.h>

#include "text.h"

void dates_apply(struct text_doc *d, int64_t now);

/* A time window on a day: `day` must be a TOK_DATE of grain day, `win` a TOK_TIMEWIN.
 * Sets [*from, *to) in UTC microseconds, reading the window in the same zone as the day.
 * Returns 0, or -1 when the tokens are not of those kinds or carry TOK_F_BAD_DATE. */
int dates_window_on_day(const struct tok *day, const struct tok *win, int64_t *from,
                        int64_t *to);

/* The plain resolver, for golden tests and tools: the first DATE or TIMEWIN token of a
 * phrase after all passes. Returns 0 and fills *out (kind, from, to, grain, flags), or -1
 * when the phrase has none or is not valid UTF-8. */
int dates_resolve(const char *phrase, size_t len, int64_t now, struct tok *out);

#endif
