using Engine.Silo.Plans;

namespace Engine.Tests.Silo;

/// <summary>Recurring plans' occurrences: Quartz cron expressions in a time zone, daylight saving included.</summary>
public sealed class PlanCalendarTests
{
    private static PlanCalendar Calendar(string cron, string zone)
    {
        var (calendar, rejection) = PlanCalendar.Create(cron, zone);
        Assert.Null(rejection);
        return calendar!;
    }

    [Fact]
    public void NextAfter_MonthlyAt0830NewYorkAcrossSpringForward_StaysAt0830LocalAndMovesAnHourInUtc()
    {
        var calendar = Calendar("0 30 8 10 * ?", "America/New_York");

        var february = calendar.NextAfter(new DateTimeOffset(2026, 2, 1, 0, 0, 0, TimeSpan.Zero))!.Value;
        var march = calendar.NextAfter(february)!.Value;
        var november = calendar.NextAfter(new DateTimeOffset(2026, 10, 11, 0, 0, 0, TimeSpan.Zero))!.Value;

        Assert.Equal(new DateTimeOffset(2026, 2, 10, 13, 30, 0, TimeSpan.Zero), february);
        Assert.Equal(new DateTimeOffset(2026, 3, 10, 12, 30, 0, TimeSpan.Zero), march);
        // And back after the fall-back of 1 November.
        Assert.Equal(new DateTimeOffset(2026, 11, 10, 13, 30, 0, TimeSpan.Zero), november);
    }

    [Fact]
    public void FirstOccurrence_TodaysArmMomentPassed_IsTheNextOne()
    {
        var calendar = Calendar("0 30 8 * * ?", "America/New_York");
        var now = new DateTimeOffset(2026, 1, 5, 13, 27, 0, TimeSpan.Zero); // 08:27 in New York

        var (first, rejection) = calendar.FirstOccurrence(now, TimeSpan.FromMinutes(5), TimeSpan.FromHours(4));

        Assert.Null(rejection);
        Assert.Equal(new DateTimeOffset(2026, 1, 6, 13, 30, 0, TimeSpan.Zero), first);
    }

    [Theory]
    [InlineData("0 0/10 * * * ?", "UTC", "invalid_cron")] // every ten minutes, with a four-hour flatten: occurrences overlap
    [InlineData("0 30 8 10 2 ? 2020", "UTC", "invalid_cron")] // only in the past
    [InlineData("0 61 8 * * ?", "UTC", "invalid_cron")]
    [InlineData("30 8 * *", "UTC", "invalid_cron")]
    [InlineData("0 30 8 10 * ?", "America/NewYork", "invalid_time_zone")]
    [InlineData("0 30 8 10 * ?", "", "invalid_time_zone")]
    public void CreateAndFirstOccurrence_BadScheduleOrZone_AreRefusedWithACode(string cron, string zone, string code)
    {
        var (calendar, rejection) = PlanCalendar.Create(cron, zone);
        if (rejection is null)
            rejection = calendar!.FirstOccurrence(new DateTimeOffset(2026, 1, 5, 12, 0, 0, TimeSpan.Zero), TimeSpan.FromMinutes(5), TimeSpan.FromHours(4)).Rejection;

        Assert.Equal(code, rejection?.Code);
    }
}
