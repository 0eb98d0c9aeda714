using Engine.Grains.Common;
using Quartz;

namespace Engine.Silo.Plans;

/// <summary>
/// A recurring plan's occurrences: a Quartz cron expression evaluated in a time zone (daylight saving
/// included: 08:30 in America/New_York is 13:30 UTC in winter and 12:30 UTC in summer).
/// </summary>
public sealed class PlanCalendar
{
    /// <summary>How many occurrences ahead a new plan's schedule is checked for overlapping occurrences.</summary>
    private const int OverlapCheck = 12;

    private readonly CronExpression _cron;

    private PlanCalendar(CronExpression cron) => _cron = cron;

    /// <summary>Parses <paramref name="cron"/> (Quartz syntax: seconds first) in the IANA <paramref name="timeZone"/>.</summary>
    public static (PlanCalendar? Calendar, Rejection? Rejection) Create(string? cron, string? timeZone)
    {
        if (string.IsNullOrWhiteSpace(timeZone)) return (null, Rejection.Invalid("invalid_time_zone", "event.timeZone is required with event.cron"));
        TimeZoneInfo zone;
        try
        {
            zone = TimeZones.FindById(timeZone);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return (null, Rejection.Invalid("invalid_time_zone", $"unknown time zone '{timeZone}': use an IANA id such as America/New_York"));
        }

        if (string.IsNullOrWhiteSpace(cron)) return (null, Rejection.Invalid("invalid_cron", "event.cron is required"));
        try
        {
            return (new PlanCalendar(new CronExpression(cron, zone)), null);
        }
        catch (FormatException e)
        {
            return (null, Rejection.Invalid("invalid_cron", $"'{cron}' is not a cron expression (Quartz syntax: seconds minutes hours day-of-month month day-of-week [year]): {e.Message}"));
        }
    }

    /// <summary>The first occurrence strictly after <paramref name="after"/>, or null when the expression has none.</summary>
    public DateTimeOffset? NextAfter(DateTimeOffset after) => _cron.GetNextValidTimeAfter(after);

    /// <summary>
    /// A new plan's first occurrence: the first whose arm moment (event − <paramref name="armBefore"/>) is
    /// still ahead of <paramref name="now"/>. Refused when the expression never fires again, or when an
    /// occurrence would arm before the previous one's last step (disarm or flatten) is done.
    /// </summary>
    public (DateTimeOffset? First, Rejection? Rejection) FirstOccurrence(DateTimeOffset now, TimeSpan armBefore, TimeSpan lastStep)
    {
        if (NextAfter(now + armBefore) is not { } first)
            return (null, Rejection.Invalid("invalid_cron", "the cron expression has no occurrence after now"));
        var previous = first;
        for (var i = 0; i < OverlapCheck && NextAfter(previous) is { } next; i++)
        {
            if (next - armBefore <= previous + lastStep)
                return (null, Rejection.Invalid("invalid_cron",
                    $"occurrences overlap: the one at {next:O} would arm before the one at {previous:O} has finished (armBefore plus its last step is longer than the time between them)"));
            previous = next;
        }

        return (first, null);
    }
}
