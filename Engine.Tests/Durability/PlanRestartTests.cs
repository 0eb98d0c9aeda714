using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Engine.Tests.Api;
using Engine.Tests.Support;

namespace Engine.Tests.Durability;

/// <summary>
/// Plans across an engine restart, in driven time: the engine (HTTP pipeline and silo, in process) is
/// stopped, and started again on the same data folder with its clock set later, so that it was "down"
/// over a plan's moments. The process-kill harness (<see cref="EngineProcess"/>) runs on the wall clock
/// and cannot be driven, so these tests stop and start the in-process host instead (a clean stop: the
/// shards snapshot and the plan state comes back from the snapshot). Quartz keeps nothing: the schedule
/// is rebuilt from the plans at start, steps whose moment passed fire at once, and the misfire policy
/// decides what an arm still does.
/// </summary>
public sealed class PlanRestartTests : IAsyncLifetime
{
    private const string Btc = "BTC-USDT";
    private static readonly DateTimeOffset T0 = new(2026, 1, 5, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset EventAt = T0.AddHours(1);

    private readonly string _data = EngineApp.NewDataDirectory();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        try
        {
            if (Directory.Exists(_data)) Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }

        return Task.CompletedTask;
    }

    private EngineApp Engine(DateTimeOffset now) => new(_data, new ManualTimeProvider(now), PlanApiTests.Settings);

    /// <summary>Creates a trader and a CPI plan (event at 13:00) on an engine at <paramref name="now"/>; returns them running.</summary>
    private async Task<(EngineApp App, Trader Trader, string PlanId)> StartWithPlanAsync(DateTimeOffset now, string misfire)
    {
        var app = Engine(now);
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync(Btc, "64000");
        var plan = (await app.PostAsync($"{t.Path}/plans", PlanApiTests.CpiPlan(EventAt, misfire), t.ApiKey)).Status(HttpStatusCode.Created);
        Assert.Equal("scheduled", plan.Str("status"));
        return (app, t, plan.Str("planId"));
    }

    /// <summary>
    /// After a start the engine has no prices until the feed ticks (here: this test's tick), and an arm or
    /// flatten waits for one, polling on the engine clock: tick, then move the clock a second at a time
    /// until the plan shows what the step did.
    /// </summary>
    private static async Task<JsonElement> TickUntilAsync(EngineApp app, Trader t, string planId, string price, Func<JsonElement, bool> until, string what)
    {
        await app.SetPriceAsync(Btc, price);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var plan = (await app.GetAsync($"{t.Path}/plans/{planId}", t.ApiKey)).Status(HttpStatusCode.OK);
            if (until(plan)) return plan;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the plan was never {what}: {plan.GetRawText()}");
            await Task.Delay(20);
            app.Clock.Advance(TimeSpan.FromSeconds(1));
        }
    }

    private static string[] HistoryTypes(JsonElement plan) => plan.Items("history").Select(h => h.Str("type")).ToArray();

    [Fact]
    public async Task Restart_DownOverTheArmAndBackAfterTheEventWithSkip_NothingIsArmed()
    {
        var (app, t, planId) = await StartWithPlanAsync(T0, "skip");
        await app.DisposeAsync();

        await using var restarted = Engine(EventAt.AddMinutes(10));
        var plan = await PlanApiTests.PollStatusAsync(restarted, t, planId, "completed");

        Assert.Equal(["created", "armSkipped", "completed"], HistoryTypes(plan));
        var skipped = plan.Items("history")[1];
        Assert.Equal(("event_passed", EventAt, EventAt.AddMinutes(10)),
            (skipped.Str("reason"), skipped.GetProperty("eventAt").GetDateTimeOffset(), skipped.GetProperty("timestamp").GetDateTimeOffset()));
        Assert.Empty((await restarted.GetAsync($"{t.Path}/orders?status=all", t.ApiKey)).Status(HttpStatusCode.OK).Items());
        Assert.Empty((await restarted.GetAsync($"{t.Path}/positions", t.ApiKey)).Status(HttpStatusCode.OK).Items());
        Assert.Equal(5000m, (await restarted.GetAsync($"{t.Path}/buckets/{plan.Str("bucketId")}", t.ApiKey)).Status(HttpStatusCode.OK).Dec("balance"));
    }

    [Fact]
    public async Task Restart_DownOverTheArmAndBackAfterTheEventWithArmLate_NothingIsArmed()
    {
        var (app, t, planId) = await StartWithPlanAsync(T0, "armLate");
        await app.DisposeAsync();

        await using var restarted = Engine(EventAt.AddMinutes(10));
        var plan = await PlanApiTests.PollStatusAsync(restarted, t, planId, "completed");

        Assert.Equal(["created", "armSkipped", "completed"], HistoryTypes(plan));
        Assert.Equal("event_passed", plan.Items("history")[1].Str("reason"));
        Assert.Empty((await restarted.GetAsync($"{t.Path}/orders?status=all", t.ApiKey)).Status(HttpStatusCode.OK).Items());
    }

    [Fact]
    public async Task Restart_DownOverTheArmAndBackBeforeTheEventWithArmLate_ArmsLate()
    {
        var (app, t, planId) = await StartWithPlanAsync(T0, "armLate");
        await app.DisposeAsync();

        // Back at 12:58: three minutes after the arm moment (the grace is one), two before the event.
        var restartAt = EventAt.AddMinutes(-2);
        await using var restarted = Engine(restartAt);
        var plan = await TickUntilAsync(restarted, t, planId, "64000", p => p.Str("status") == "armed", "armed");

        var armed = plan.Items("history")[1];
        Assert.Equal("armed", armed.Str("type"));
        Assert.InRange(armed.GetProperty("timestamp").GetDateTimeOffset(), restartAt, EventAt.AddSeconds(-1));
        Assert.Equal((64000m, 0.194m), (plan.Dec("referencePrice"), plan.Dec("quantity")));
        var orders = (await restarted.GetAsync($"{t.Path}/orders", t.ApiKey)).Status(HttpStatusCode.OK).Items();
        Assert.Equal(6, orders.Length);
        Assert.Equal([64384.0m, 63616.0m], orders.Take(2).Select(o => o.Dec("triggerPrice")));
        Assert.Equal(restartAt.AddMinutes(32), plan.GetProperty("disarmAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task Restart_DownOverTheArmAndBackBeforeTheEventWithSkip_SkipsTheMissedArm()
    {
        var (app, t, planId) = await StartWithPlanAsync(T0, "skip");
        await app.DisposeAsync();

        await using var restarted = Engine(EventAt.AddMinutes(-2));
        var plan = await TickUntilAsync(restarted, t, planId, "64000", p => p.Str("status") == "completed", "completed");

        Assert.Equal(["created", "armSkipped", "completed"], HistoryTypes(plan));
        Assert.Equal("missed_arm", plan.Items("history")[1].Str("reason"));
        Assert.Empty((await restarted.GetAsync($"{t.Path}/orders?status=all", t.ApiKey)).Status(HttpStatusCode.OK).Items());
    }

    [Fact]
    public async Task Restart_AfterTheDisarmMoment_TheDisarmRunsAtOnceOnStart()
    {
        var (app, t, planId) = await StartWithPlanAsync(T0, "skip");
        PlanApiTests.AdvanceTo(app, EventAt.AddMinutes(-5));
        var armed = await PlanApiTests.PollStatusAsync(app, t, planId, "armed");
        var entries = armed.Items("orderIds").Take(2).Select(o => o.GetString()!).ToArray();
        await app.DisposeAsync();

        var restartAt = EventAt.AddMinutes(45);
        await using var restarted = Engine(restartAt);
        var plan = await PlanApiTests.PollStatusAsync(restarted, t, planId, "disarmed");

        var disarmed = plan.Items("history").Last();
        Assert.Equal(("disarmed", restartAt), (disarmed.Str("type"), disarmed.GetProperty("timestamp").GetDateTimeOffset()));
        Assert.Equal(entries, disarmed.Items("orderIds").Select(o => o.GetString()));
        foreach (var entry in entries)
        {
            var order = (await restarted.GetAsync($"{t.Path}/orders/{entry}", t.ApiKey)).Status(HttpStatusCode.OK);
            Assert.Equal(("cancelled", "plan_disarmed"), (order.Str("status"), order.Str("reason")));
        }

        Assert.Empty((await restarted.GetAsync($"{t.Path}/orders", t.ApiKey)).Status(HttpStatusCode.OK).Items());
        Assert.Equal(EventAt.AddHours(4), plan.GetProperty("flattenAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task Restart_AfterTheFlattenMoment_TheDueStepsRunOnStartAndTheFlattenClosesAtTheFirstPrice()
    {
        var (app, t, planId) = await StartWithPlanAsync(T0, "skip");
        PlanApiTests.AdvanceTo(app, EventAt.AddMinutes(-5));
        await PlanApiTests.PollStatusAsync(app, t, planId, "armed");
        PlanApiTests.AdvanceTo(app, EventAt.AddSeconds(30));
        await app.SetPriceAsync(Btc, "63500");
        var position = Assert.Single((await app.GetAsync($"{t.Path}/positions", t.ApiKey)).Status(HttpStatusCode.OK).Items());
        Assert.Equal(("short", 0.194m, 63500m), (position.Str("side"), position.Dec("quantity"), position.Dec("entryPrice")));
        await app.DisposeAsync();

        await using var restarted = Engine(EventAt.AddHours(5));
        var plan = await TickUntilAsync(restarted, t, planId, "63400", p => p.Str("status") == "completed", "completed");

        var types = HistoryTypes(plan);
        Assert.Equal(["disarmed", "flattened", "orderFilled", "orderCancelled", "orderCancelled", "completed"], types[^6..]);
        Assert.Empty((await restarted.GetAsync($"{t.Path}/positions", t.ApiKey)).Status(HttpStatusCode.OK).Items());
        var close = plan.Items("history")[^4];
        // Bought back at 63,400: 0.194 × (63,500 − 63,400) = 19.4.
        Assert.Equal(("close", "buy", 0.194m, 63400m, 19.4m), (close.Str("role"), close.Str("side"), close.Dec("quantity"), close.Dec("price"), close.Dec("realizedPnl")));
        Assert.Equal(0m, plan.Dec("netQuantity"));
    }
}
