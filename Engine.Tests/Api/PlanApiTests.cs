using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Engine.Tests.Support;

namespace Engine.Tests.Api;

/// <summary>
/// Trade plans through HTTP, in driven time: each test runs its own engine on a manual clock and moves
/// it to the plan's moments; Quartz (on the engine's clock) fires the steps. A step runs on Quartz's
/// threads and commits on the shard asynchronously, so a test polls the plan (bounded) for the result
/// of a step whose moment the clock has reached; nothing waits for a schedule on the wall clock.
/// </summary>
public sealed class PlanApiTests
{
    private const string Btc = "BTC-USDT";

    /// <summary>The engine timer at 1 s: the clock moves hours in these tests, and every timer period on the way fires.</summary>
    internal static readonly IReadOnlyDictionary<string, string?> Settings = new Dictionary<string, string?> { ["Engine:TimerInterval"] = "00:00:01" };

    /// <summary>The manual clock's default start.</summary>
    private static readonly DateTimeOffset T0 = new(2026, 1, 5, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A US CPI style plan: straddle 0.6% around the index five minutes before, 1% risk, SL 0.3%, TP 0.9%, disarm 30 min, flatten 4 h after.</summary>
    internal static Dictionary<string, object?> CpiPlan(DateTimeOffset at, string misfire = "skip") => new()
    {
        ["name"] = "US CPI",
        ["symbol"] = Btc,
        ["allocation"] = "5000",
        ["event"] = new { at = at.ToString("O") },
        ["armBefore"] = "PT5M",
        ["disarmAfter"] = "PT30M",
        ["flattenAfter"] = "PT4H",
        ["entry"] = new { type = "straddle", distance = "0.006" },
        ["sizing"] = new { riskFraction = "0.01" },
        ["stopLoss"] = new { distance = "0.003" },
        ["takeProfit"] = new { distance = "0.009" },
        ["misfire"] = misfire,
    };

    /// <summary>Reads the plan until <paramref name="until"/> holds (bounded: a broken step fails the test instead of hanging it).</summary>
    internal static async Task<JsonElement> PollPlanAsync(EngineApp app, Trader t, string planId, Func<JsonElement, bool> until, string what)
    {
        var clock = Stopwatch.StartNew();
        JsonElement plan;
        do
        {
            plan = (await app.GetAsync($"{t.Path}/plans/{planId}", t.ApiKey)).Status(HttpStatusCode.OK);
            if (until(plan)) return plan;
            await Task.Delay(10);
        }
        while (clock.Elapsed < TimeSpan.FromSeconds(20));

        Assert.Fail($"the plan was never {what}: {plan.GetRawText()}");
        return plan;
    }

    internal static Task<JsonElement> PollStatusAsync(EngineApp app, Trader t, string planId, string status) =>
        PollPlanAsync(app, t, planId, p => p.Str("status") == status, status);

    /// <summary>Moves the engine clock to <paramref name="at"/>.</summary>
    internal static void AdvanceTo(EngineApp app, DateTimeOffset at) => app.Clock.Advance(at - app.Clock.GetUtcNow());

    private static string[] HistoryTypes(JsonElement plan) => plan.Items("history").Select(h => h.Str("type")).ToArray();

    private static async Task<JsonElement[]> OrdersAsync(EngineApp app, Trader t, string bucketId) =>
        (await app.GetAsync($"{t.Path}/orders?status=all&bucketId={bucketId}", t.ApiKey)).Status(HttpStatusCode.OK).Items();

    [Fact]
    public async Task Plan_WholeOccurrenceInDrivenTime_ArmsOneSideFiresTheOtherIsCancelledDisarmsAndFlattens()
    {
        await using var app = new EngineApp(null, null, Settings);
        var t = await app.CreateTraderAsync(wallet: "10000", bucket: "3000");
        await app.SetPriceAsync(Btc, "64000");
        var eventAt = T0.AddHours(1);

        var created = (await app.PostAsync($"{t.Path}/plans", CpiPlan(eventAt), t.ApiKey)).Status(HttpStatusCode.Created);

        var planId = created.Str("planId");
        Assert.Equal(("scheduled", true, "PT5M", "PT30M", "PT4H"),
            (created.Str("status"), created.GetProperty("ownBucket").GetBoolean(), created.Str("armBefore"), created.Str("disarmAfter"), created.Str("flattenAfter")));
        Assert.Equal((eventAt, eventAt.AddMinutes(-5), eventAt.AddMinutes(30), eventAt.AddHours(4)),
            (created.GetProperty("eventAt").GetDateTimeOffset(), created.GetProperty("armAt").GetDateTimeOffset(),
                created.GetProperty("disarmAt").GetDateTimeOffset(), created.GetProperty("flattenAt").GetDateTimeOffset()));
        Assert.Equal(eventAt, created.GetProperty("event").GetProperty("at").GetDateTimeOffset());
        var bucketId = created.Str("bucketId");
        var bucket = (await app.GetAsync($"{t.Path}/buckets/{bucketId}", t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal(("plan", 5000m), (bucket.Str("kind"), bucket.Dec("balance")));
        Assert.Equal(2000m, (await app.GetAsync(t.Path, t.ApiKey)).Status(HttpStatusCode.OK).Dec("walletBalance"));
        Assert.Empty(await OrdersAsync(app, t, bucketId));

        // Arm: five minutes before the event, a straddle 0.6% around the index of 64,000.
        AdvanceTo(app, eventAt.AddMinutes(-5));
        var armed = await PollStatusAsync(app, t, planId, "armed");

        // 1% of 5,000 is 50 USDT; per unit the buy side risks 64,384 − 64,190.8 plus taker fees on both fills,
        // (64,384 + 64,190.8) × 0.0005: 257.4874, so 50 / 257.4874 = 0.194 BTC (the sell side would allow 0.196).
        Assert.Equal((64000m, 0.194m), (armed.Dec("referencePrice"), armed.Dec("quantity")));
        var armedLine = armed.Items("history")[1];
        Assert.Equal(("armed", eventAt.AddMinutes(-5), 64000m), (armedLine.Str("type"), armedLine.GetProperty("timestamp").GetDateTimeOffset(), armedLine.Dec("price")));
        var orders = await OrdersAsync(app, t, bucketId);
        Assert.Equal(6, orders.Length);
        Assert.Equal(armed.Items("orderIds").Select(o => o.GetString()), orders.Select(o => o.Str("orderId")));
        var (buy, sell) = (orders[0], orders[1]);
        Assert.Equal(("buy", "stop", 64384.0m, 0.194m, "untriggered"), (buy.Str("side"), buy.Str("type"), buy.Dec("triggerPrice"), buy.Dec("quantity"), buy.Str("status")));
        Assert.Equal(("sell", "stop", 63616.0m, 0.194m, "untriggered"), (sell.Str("side"), sell.Str("type"), sell.Dec("triggerPrice"), sell.Dec("quantity"), sell.Str("status")));
        Assert.Equal(armed.Str("listId"), buy.Str("listId"));
        Assert.Equal([buy.Str("orderId"), buy.Str("orderId"), sell.Str("orderId"), sell.Str("orderId")], orders.Skip(2).Select(o => o.Str("parentOrderId")));
        Assert.Equal(["takeProfit", "stop", "takeProfit", "stop"], orders.Skip(2).Select(o => o.Str("type")));
        Assert.All(orders.Skip(2), o => Assert.True(o.GetProperty("reduceOnly").GetBoolean()));

        // The release moves the index up through the buy-stop: it fills, the sell side is cancelled with its exits.
        AdvanceTo(app, eventAt.AddSeconds(20));
        await app.SetPriceAsync(Btc, "64400");
        orders = await OrdersAsync(app, t, bucketId);
        Assert.Equal(("filled", 64400m, 0.194m), (orders[0].Str("status"), orders[0].Dec("averageFillPrice"), orders[0].Dec("filledQuantity")));
        Assert.Equal(("cancelled", "oco_sibling_triggered"), (orders[1].Str("status"), orders[1].Str("reason")));
        // The buy side's exits armed from its fill: 64,400 × 1.009 = 64,979.6 and 64,400 × 0.997 = 64,206.8, for the filled 0.194.
        Assert.Equal(("untriggered", 64979.6m, 0.194m), (orders[2].Str("status"), orders[2].Dec("triggerPrice"), orders[2].Dec("quantity")));
        Assert.Equal(("untriggered", 64206.8m, 0.194m), (orders[3].Str("status"), orders[3].Dec("triggerPrice"), orders[3].Dec("quantity")));
        Assert.All(orders.Skip(4), o => Assert.Equal(("cancelled", "primary_not_filled"), (o.Str("status"), o.Str("reason"))));
        var position = Assert.Single((await app.GetAsync($"{t.Path}/positions", t.ApiKey)).Status(HttpStatusCode.OK).Items());
        Assert.Equal((bucketId, "long", 0.194m, 64400m), (position.Str("bucketId"), position.Str("side"), position.Dec("quantity"), position.Dec("entryPrice")));

        // Disarm, thirty minutes after: nothing is left waiting (the OCO already cancelled the other side).
        AdvanceTo(app, eventAt.AddMinutes(30));
        var disarmed = await PollStatusAsync(app, t, planId, "disarmed");
        var disarmLine = disarmed.Items("history").Last();
        Assert.Equal(("disarmed", eventAt.AddMinutes(30)), (disarmLine.Str("type"), disarmLine.GetProperty("timestamp").GetDateTimeOffset()));
        Assert.Empty(disarmLine.Items("orderIds"));

        // Flatten, four hours after: what is left is closed at the index, the exits go with the position.
        await app.SetPriceAsync(Btc, "64500");
        AdvanceTo(app, eventAt.AddHours(4));
        var completed = await PollStatusAsync(app, t, planId, "completed");

        orders = await OrdersAsync(app, t, bucketId);
        Assert.Equal(7, orders.Length);
        var close = orders[6];
        Assert.Equal(("sell", "market", true, "filled", 0.194m, 64500m),
            (close.Str("side"), close.Str("type"), close.GetProperty("reduceOnly").GetBoolean(), close.Str("status"), close.Dec("filledQuantity"), close.Dec("averageFillPrice")));
        Assert.All(orders[2..4], o => Assert.Equal(("cancelled", "position_closed"), (o.Str("status"), o.Str("reason"))));
        Assert.Empty((await app.GetAsync($"{t.Path}/positions", t.ApiKey)).Status(HttpStatusCode.OK).Items());
        // Realized 0.194 × (64,500 − 64,400) = 19.4; fees 0.194 × 64,400 × 0.0005 = 6.2468 and 0.194 × 64,500 × 0.0005 = 6.2565.
        Assert.Equal((0m, 19.4m, 12.5033m), (completed.Dec("netQuantity"), completed.Dec("realizedPnl"), completed.Dec("fees")));
        Assert.Equal(5006.8967m, (await app.GetAsync($"{t.Path}/buckets/{bucketId}", t.ApiKey)).Status(HttpStatusCode.OK).Dec("balance"));
        Assert.Equal(
        [
            "created", "armed", "orderCancelled", "orderCancelled", "orderCancelled", "orderFilled", "disarmed",
            "flattened", "orderFilled", "orderCancelled", "orderCancelled", "completed",
        ], HistoryTypes(completed));
        var history = completed.Items("history");
        Assert.Equal(("entry", "buy", 64400m, 0.194m), (history[5].Str("role"), history[5].Str("side"), history[5].Dec("price"), history[5].Dec("quantity")));
        Assert.Equal((close.Str("orderId"), 0.194m), (history[7].Str("orderId"), history[7].Dec("quantity")));
        Assert.Equal(("close", 19.4m), (history[8].Str("role"), history[8].Dec("realizedPnl")));
        Assert.Equal((19.4m, 12.5033m, eventAt.AddHours(4)), (history[11].Dec("realizedPnl"), history[11].Dec("fee"), history[11].GetProperty("timestamp").GetDateTimeOffset()));

        // The account's event stream tells the same story, with public order ids.
        var events = (await app.GetAsync($"{t.Path}/events?after=0", t.ApiKey)).Status(HttpStatusCode.OK).Items();
        var armedEvent = Assert.Single(events, e => e.Str("type") == "planArmed");
        Assert.Equal(armed.Items("orderIds").Select(o => o.GetString()), armedEvent.Items("orders").Select(o => o.Str("orderId")));
        Assert.Equal(["planCreated", "planArmed", "planDisarmed", "planFlattened", "planCompleted"],
            events.Select(e => e.Str("type")).Where(type => type.StartsWith("plan", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Plan_RecurringAcrossADaylightSavingChange_ArmsAt0825NewYorkTimeBothMonths()
    {
        // US daylight saving starts on 8 March 2026: 08:30 in New York is 13:30 UTC on 10 February and 12:30 UTC on 10 March.
        var clock = new ManualTimeProvider(new DateTimeOffset(2026, 2, 1, 0, 0, 0, TimeSpan.Zero));
        var coarse = new Dictionary<string, string?> { ["Engine:TimerInterval"] = "01:00:00" };
        await using var app = new EngineApp(null, clock, coarse);
        var t = await app.CreateTraderAsync();
        var newYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
        var body = CpiPlan(T0);
        body["event"] = new { cron = "0 30 8 10 * ?", timeZone = "America/New_York" };
        body.Remove("flattenAfter");

        var created = (await app.PostAsync($"{t.Path}/plans", body, t.ApiKey)).Status(HttpStatusCode.Created);

        var planId = created.Str("planId");
        var february = new DateTimeOffset(2026, 2, 10, 13, 30, 0, TimeSpan.Zero);
        Assert.Equal((february, "0 30 8 10 * ?", "America/New_York"),
            (created.GetProperty("eventAt").GetDateTimeOffset(), created.GetProperty("event").Str("cron"), created.GetProperty("event").Str("timeZone")));

        await app.SetPriceAsync(Btc, "64000");
        AdvanceTo(app, february.AddMinutes(-5));
        var armedInFebruary = await PollStatusAsync(app, t, planId, "armed");
        AdvanceTo(app, february.AddMinutes(30));
        var march = new DateTimeOffset(2026, 3, 10, 12, 30, 0, TimeSpan.Zero);
        var rescheduled = await PollPlanAsync(app, t, planId, p => p.Str("status") == "scheduled" && p.GetProperty("eventAt").GetDateTimeOffset() == march, "rescheduled to 10 March");
        Assert.Equal(march.AddMinutes(-5), rescheduled.GetProperty("armAt").GetDateTimeOffset());

        await app.SetPriceAsync(Btc, "65000");
        AdvanceTo(app, march.AddMinutes(-5));
        var armedInMarch = await PollStatusAsync(app, t, planId, "armed");

        var arms = armedInMarch.Items("history").Where(h => h.Str("type") == "armed").ToArray();
        Assert.Equal(2, arms.Length);
        Assert.Equal([february, march], arms.Select(a => a.GetProperty("eventAt").GetDateTimeOffset()));
        Assert.Equal([february.AddMinutes(-5), march.AddMinutes(-5)], arms.Select(a => a.GetProperty("timestamp").GetDateTimeOffset()));
        foreach (var arm in arms)
        {
            Assert.Equal(new TimeSpan(8, 25, 0), TimeZoneInfo.ConvertTime(arm.GetProperty("timestamp").GetDateTimeOffset(), newYork).TimeOfDay);
            Assert.Equal(new TimeSpan(8, 30, 0), TimeZoneInfo.ConvertTime(arm.GetProperty("eventAt").GetDateTimeOffset(), newYork).TimeOfDay);
        }

        Assert.Equal(TimeSpan.FromHours(-5), newYork.GetUtcOffset(february));
        Assert.Equal(TimeSpan.FromHours(-4), newYork.GetUtcOffset(march));
        Assert.Equal((64000m, 65000m), (armedInFebruary.Dec("referencePrice"), armedInMarch.Dec("referencePrice")));
        var line = armedInMarch.Items("history").Single(h => h.Str("type") == "rescheduled");
        Assert.Equal((february, march), (line.GetProperty("eventAt").GetDateTimeOffset(), line.GetProperty("nextEventAt").GetDateTimeOffset()));
    }

    [Fact]
    public async Task Plan_BucketLosesEverything_NothingOutsideItsBucketChanges()
    {
        await using var app = new EngineApp(null, null, Settings);
        var t = await app.CreateTraderAsync(wallet: "10000", bucket: "3000");
        // Outside the plan: an ETH long and a resting ETH limit order in the manual bucket.
        await app.SetPriceAsync("ETH-USDT", "3000");
        (await app.PostAsync($"{t.Path}/orders", new { symbol = "ETH-USDT", side = "buy", type = "market", quantity = "0.5" }, t.ApiKey)).Status(HttpStatusCode.Created);
        (await app.PostAsync($"{t.Path}/orders", new { symbol = "ETH-USDT", side = "buy", type = "limit", quantity = "0.1", price = "2900" }, t.ApiKey)).Status(HttpStatusCode.Created);
        await app.SetPriceAsync(Btc, "64000");
        var eventAt = T0.AddHours(1);
        // A buy-stop sized to use almost the whole 1,000 USDT plan bucket as margin: 0.154 BTC at 10x.
        var body = CpiPlan(eventAt);
        body["allocation"] = "1000";
        body["entry"] = new { type = "buyStop", distance = "0.006" };
        body["sizing"] = new { quantity = "0.154" };
        body["stopLoss"] = new { distance = "0.05" };
        body.Remove("takeProfit");
        var planId = (await app.PostAsync($"{t.Path}/plans", body, t.ApiKey)).Status(HttpStatusCode.Created).Str("planId");
        AdvanceTo(app, eventAt.AddMinutes(-5));
        var armed = await PollStatusAsync(app, t, planId, "armed");
        var bucketId = armed.Str("bucketId");
        AdvanceTo(app, eventAt.AddSeconds(20));
        await app.SetPriceAsync(Btc, "64400");
        var orders = await OrdersAsync(app, t, bucketId);
        Assert.Equal(("filled", 64400m), (orders[0].Str("status"), orders[0].Dec("averageFillPrice")));
        // The trader removes the stop-loss: nothing protects the position now.
        (await app.DeleteAsync($"{t.Path}/orders/{orders[1].Str("orderId")}", t.ApiKey)).Status(HttpStatusCode.OK);
        var planBucket = (await app.GetAsync($"{t.Path}/buckets/{bucketId}", t.ApiKey)).Status(HttpStatusCode.OK);
        // Margin 0.154 × 64,400 / 10 = 991.76; the entry's fee 0.154 × 64,400 × 0.0005 = 4.9588.
        Assert.Equal((995.0412m, 991.76m), (planBucket.Dec("balance"), planBucket.Dec("usedMargin")));
        var outside = await OutsideAsync(app, t);

        // A crash far through the liquidation price (about 58,192.8). The mark follows the index over its
        // 5 s window; the engine's timer moves it a second at a time.
        AdvanceTo(app, eventAt.AddMinutes(1));
        await app.SetPriceAsync(Btc, "40000");
        JsonElement[] positions;
        var clock = Stopwatch.StartNew();
        do
        {
            app.Clock.Advance(TimeSpan.FromSeconds(1));
            positions = (await app.GetAsync($"{t.Path}/positions", t.ApiKey)).Status(HttpStatusCode.OK).Items();
        }
        while (positions.Any(p => p.Str("bucketId") == bucketId) && clock.Elapsed < TimeSpan.FromSeconds(20));

        Assert.DoesNotContain(positions, p => p.Str("bucketId") == bucketId);
        var liquidation = Assert.Single((await app.GetAsync($"{t.Path}/fills", t.ApiKey)).Status(HttpStatusCode.OK).Items(), f => f.Str("liquidity") == "liquidation");
        // The loss is the position's margin, never more: the bucket keeps only what was never at risk.
        Assert.Equal((bucketId, -991.76m), (liquidation.Str("bucketId"), liquidation.Dec("realizedPnl")));
        planBucket = (await app.GetAsync($"{t.Path}/buckets/{bucketId}", t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal((3.2812m, 0m), (planBucket.Dec("balance"), planBucket.Dec("usedMargin")));
        var plan = (await app.GetAsync($"{t.Path}/plans/{planId}", t.ApiKey)).Status(HttpStatusCode.OK);
        var liquidated = plan.Items("history").Last();
        Assert.Equal(("positionLiquidated", 0.154m, -991.76m), (liquidated.Str("type"), liquidated.Dec("quantity"), liquidated.Dec("realizedPnl")));
        Assert.Equal((0m, -991.76m), (plan.Dec("netQuantity"), plan.Dec("realizedPnl")));
        Assert.Equal(outside, await OutsideAsync(app, t));

        // The plan runs to its end with nothing left to close; still nothing outside moves.
        AdvanceTo(app, eventAt.AddHours(4));
        plan = await PollStatusAsync(app, t, planId, "completed");
        Assert.Equal("nothing_to_close", plan.Items("history").Single(h => h.Str("type") == "flattened").Str("reason"));
        Assert.Equal(outside, await OutsideAsync(app, t));
    }

    /// <summary>What lies outside the plan's bucket: the wallet, the manual bucket (with its ETH position) and its orders.</summary>
    private static async Task<string> OutsideAsync(EngineApp app, Trader t)
    {
        var account = (await app.GetAsync(t.Path, t.ApiKey)).Status(HttpStatusCode.OK);
        var manual = (await app.GetAsync($"{t.Path}/buckets/{t.BucketId}", t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal(0.5m, Assert.Single(manual.Items("positions")).Dec("quantity"));
        var orders = await OrdersAsync(app, t, t.BucketId);
        Assert.Equal(2, orders.Length);
        return $"{account.Dec("walletBalance")}\n{manual.GetRawText()}\n{string.Join("\n", orders.Select(o => o.GetRawText()))}";
    }
}
