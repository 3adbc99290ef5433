/* utc.h: instants as int64 microseconds since 1970-01-01T00:00:00Z, and civil dates.
 *
 * All time arithmetic in vabot happens here, in UTC, on half-open ranges. The only
 * local time is the zone set once by utc_set_zone() (VABOT_TZ), used at the edges
 * by the date resolver to turn "28 ноября" into the UTC instants that bound it.
 * Functions return 0 on success and -1 on bad input; nothing allocates. */
#ifndef VABOT_UTC_H
#define VABOT_UTC_H

#include <stddef.h>
#include <stdint.h>

#define UTC_US_PER_SEC 1000000LL
#define UTC_US_PER_DAY (86400LL * UTC_US_PER_SEC)
#define UTC_FMT_MAX 40

struct utc_civil {
    int year, month, day;      /* month 1..12, day 1..31 */
    int hour, min, sec, usec;
};

int64_t utc_days_from_civil(int y, int m, int d);
void utc_civil_from_days(int64_t days, int *y, int *m, int *d);
int utc_days_in_month(int y, int m);
int utc_weekday(int64_t days);           /* 0 = Monday ... 6 = Sunday */
int utc_valid_date(int y, int m, int d); /* 1 when the day exists (years 1..9999) */

/* Civil UTC time <-> instant. utc_from_civil rejects fields out of range. */
int utc_from_civil(const struct utc_civil *c, int64_t *out);
void utc_to_civil(int64_t us, struct utc_civil *c);

/* ISO 8601 as found in data files and specs: "2025-11-28", "2025-11-28T10:00:00Z",
 * "2025-11-26T11:00:08.983295+00:00", a space instead of 'T', any "+hh:mm" offset
 * (converted to UTC). A date without a time is midnight UTC. Exactly len bytes are read. */
int utc_parse(const char *s, size_t len, int64_t *out);

/* "2025-11-28T10:00:00Z", with ".ffffff" only when the fraction is not zero.
 * Returns the length written (cap >= UTC_FMT_MAX always suffices). */
size_t utc_format(int64_t us, char *out, size_t cap);

/* The zone of civil dates typed by users: NULL or "" or "UTC" means UTC. Returns -1
 * for a zone name the system does not know (the zone stays UTC). */
int utc_set_zone(const char *tz);
const char *utc_zone(void);
/* Local civil date-time in that zone <-> instant. For UTC these equal the above. */
int utc_from_local(const struct utc_civil *c, int64_t *out);
void utc_to_local(int64_t us, struct utc_civil *c);

#endif
