#include "utc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ==== Civil calendar (proleptic Gregorian) ==== */

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int utc_days_in_month(int y, int m)
{
    static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12)
        return 0;
    return len[m - 1] + (m == 2 && is_leap(y));
}

int utc_valid_date(int y, int m, int d)
{
    return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= utc_days_in_month(y, m);
}

/* Days since 1970-01-01. Counting years from March puts the leap day last, so a
 * 400-year era has a fixed length (146097 days) and the month lengths follow the
 * 153-day rhythm of Mar..Jul / Aug..Dec. */
int64_t utc_days_from_civil(int y, int m, int d)
{
    int64_t yy = (int64_t)y - (m <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;                          /* 0..399 */
    int64_t mp = (m + 9) % 12;                             /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + d - 1;              /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;   /* 0..146096 */
    return era * 146097 + doe - 719468;
}

void utc_civil_from_days(int64_t days, int *y, int *m, int *d)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

int utc_weekday(int64_t days)
{
    int64_t w = (days + 3) % 7; /* 1970-01-01 was a Thursday */
    return (int)(w < 0 ? w + 7 : w);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int utc_from_civil(const struct utc_civil *c, int64_t *out)
{
    if (!utc_valid_date(c->year, c->month, c->day) || c->hour < 0 || c->hour > 23 ||
        c->min < 0 || c->min > 59 || c->sec < 0 || c->sec > 60 || c->usec < 0 ||
        c->usec > 999999)
        return -1;
    int64_t days = utc_days_from_civil(c->year, c->month, c->day);
    int64_t secs = days * 86400 + c->hour * 3600 + c->min * 60 + c->sec;
    *out = secs * UTC_US_PER_SEC + c->usec;
    return 0;
}

void utc_to_civil(int64_t us, struct utc_civil *c)
{
    int64_t days = floor_div(us, UTC_US_PER_DAY);
    int64_t rest = us - days * UTC_US_PER_DAY;
    utc_civil_from_days(days, &c->year, &c->month, &c->day);
    c->hour = (int)(rest / (3600 * UTC_US_PER_SEC));
    c->min = (int)(rest / (60 * UTC_US_PER_SEC) % 60);
    c->sec = (int)(rest / UTC_US_PER_SEC % 60);
    c->usec = (int)(rest % UTC_US_PER_SEC);
}

/* ==== ISO 8601 ==== */

/* Reads exactly n digits at s[*i]. */
static int digits(const char *s, size_t len, size_t *i, int n, int *out)
{
    int v = 0;
    for (int k = 0; k < n; k++, (*i)++) {
        if (*i >= len || s[*i] < '0' || s[*i] > '9')
            return -1;
        v = v * 10 + (s[*i] - '0');
    }
    *out = v;
    return 0;
}

static int expect(const char *s, size_t len, size_t *i, char c)
{
    if (*i >= len || s[*i] != c)
        return -1;
    (*i)++;
    return 0;
}

static int parse_fraction(const char *s, size_t len, size_t *i, int *usec)
{
    int v = 0, n = 0;
    if (*i >= len || s[*i] < '0' || s[*i] > '9')
        return -1;
    for (; *i < len && s[*i] >= '0' && s[*i] <= '9'; (*i)++, n++)
        if (n < 6)
            v = v * 10 + (s[*i] - '0');
    for (; n < 6; n++)
        v *= 10;
    *usec = v;
    return 0;
}

static int parse_offset(const char *s, size_t len, size_t *i, int64_t *off_us)
{
    int sign, hh, mm = 0;
    if (*i >= len) {
        *off_us = 0;
        return 0;
    }
    if (s[*i] == 'Z' || s[*i] == 'z') {
        (*i)++;
        *off_us = 0;
        return 0;
    }
    if (s[*i] != '+' && s[*i] != '-')
        return -1;
    sign = s[(*i)++] == '-' ? -1 : 1;
    if (digits(s, len, i, 2, &hh))
        return -1;
    if (*i < len && s[*i] == ':')
        (*i)++;
    if (*i < len && digits(s, len, i, 2, &mm))
        return -1;
    if (hh > 23 || mm > 59)
        return -1;
    *off_us = sign * (int64_t)(hh * 3600 + mm * 60) * UTC_US_PER_SEC;
    return 0;
}

int utc_parse(const char *s, size_t len, int64_t *out)
{
    struct utc_civil c = {0};
    size_t i = 0;
    int64_t off = 0, t;
    if (digits(s, len, &i, 4, &c.year) || expect(s, len, &i, '-') ||
        digits(s, len, &i, 2, &c.month) || expect(s, len, &i, '-') ||
        digits(s, len, &i, 2, &c.day))
        return -1;
    if (i < len) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
            return -1;
        i++;
        if (digits(s, len, &i, 2, &c.hour) || expect(s, len, &i, ':') ||
            digits(s, len, &i, 2, &c.min))
            return -1;
        if (i < len && s[i] == ':') {
            i++;
            if (digits(s, len, &i, 2, &c.sec))
                return -1;
            if (i < len && (s[i] == '.' || s[i] == ',')) {
                i++;
                if (parse_fraction(s, len, &i, &c.usec))
                    return -1;
            }
        }
        if (parse_offset(s, len, &i, &off))
            return -1;
    }
    if (i != len || c.sec == 60 || utc_from_civil(&c, &t))
        return -1;
    *out = t - off;
    return 0;
}

size_t utc_format(int64_t us, char *out, size_t cap)
{
    struct utc_civil c;
    int n;
    utc_to_civil(us, &c);
    if (c.usec)
        n = snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", c.year, c.month, c.day,
                     c.hour, c.min, c.sec, c.usec);
    else
        n = snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year, c.month, c.day,
                     c.hour, c.min, c.sec);
    if (n < 0)
        n = 0;
    return (size_t)n < cap ? (size_t)n : (cap ? cap - 1 : 0);
}

/* ==== The user's zone ==== */

static char zone_name[64] = "UTC";
static int zone_is_utc = 1;

int utc_set_zone(const char *tz)
{
    char path[160];
    if (!tz || !*tz || !strcmp(tz, "UTC") || !strcmp(tz, "Etc/UTC")) {
        setenv("TZ", "UTC", 1);
        tzset();
        snprintf(zone_name, sizeof zone_name, "UTC");
        zone_is_utc = 1;
        return 0;
    }
    /* glibc silently treats an unknown name as UTC; insist on a real zone file. */
    int n = snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", tz);
    if (n < 0 || (size_t)n >= sizeof path || strlen(tz) >= sizeof zone_name ||
        strstr(tz, "..") || tz[0] == '/' || access(path, R_OK) != 0) {
        utc_set_zone(NULL);
        return -1;
    }
    setenv("TZ", tz, 1);
    tzset();
    snprintf(zone_name, sizeof zone_name, "%s", tz);
    zone_is_utc = 0;
    return 0;
}

const char *utc_zone(void)
{
    return zone_name;
}

int utc_from_local(const struct utc_civil *c, int64_t *out)
{
    if (zone_is_utc)
        return utc_from_civil(c, out);
    int64_t check;
    if (utc_from_civil(c, &check))
        return -1;
    struct tm tm = {0};
    tm.tm_year = c->year - 1900;
    tm.tm_mon = c->month - 1;
    tm.tm_mday = c->day;
    tm.tm_hour = c->hour;
    tm.tm_min = c->min;
    tm.tm_sec = c->sec;
    tm.tm_isdst = -1;
    time_t t = mktime(&tm);
    if (t == (time_t)-1 && !(tm.tm_year == 69 && tm.tm_mon == 11 && tm.tm_mday == 31))
        return -1;
    *out = (int64_t)t * UTC_US_PER_SEC + c->usec;
    return 0;
}

void utc_to_local(int64_t us, struct utc_civil *c)
{
    if (zone_is_utc) {
        utc_to_civil(us, c);
        return;
    }
    time_t t = (time_t)floor_div(us, UTC_US_PER_SEC);
    struct tm tm;
    localtime_r(&t, &tm);
    c->year = tm.tm_year + 1900;
    c->month = tm.tm_mon + 1;
    c->day = tm.tm_mday;
    c->hour = tm.tm_hour;
    c->min = tm.tm_min;
    c->sec = tm.tm_sec;
    c->usec = (int)(us - floor_div(us, UTC_US_PER_SEC) * UTC_US_PER_SEC);
}
