using System.Net;
using System.Text.Json;

namespace Engine.Tests.Api;

/// <summary>
/// Plan requests through HTTP that need no moving clock: every validation code (each refusal changes
/// nothing), reading, cancelling, idempotency, the position-size tool and the OpenAPI document.
/// </summary>
public sealed class PlanRequestApiTests(EngineApp app) : IClassFixture<EngineApp>
{
    private const string Btc = "BTC-USDT";

    private DateTimeOffset Now => app.Clock.GetUtcNow();

    private Dictionary<string, object?> Plan() => PlanApiTests.CpiPlan(Now.AddHours(1));

    public static TheoryData<string, HttpStatusCode, string> InvalidPlans() => new()
    {
        { "name blank", HttpStatusCode.BadRequest, "invalid_name" },
        { "symbol unknown", HttpStatusCode.BadRequest, "unknown_symbol" },
        { "event missing", HttpStatusCode.BadRequest, "invalid_event" },
        { "event at and cron", HttpStatusCode.BadRequest, "invalid_event" },
        { "event in the past", HttpStatusCode.BadRequest, "invalid_event" },
        { "event at malformed", HttpStatusCode.BadRequest, "invalid_event" },
        { "time zone unknown", HttpStatusCode.BadRequest, "invalid_time_zone" },
        { "time zone missing", HttpStatusCode.BadRequest, "invalid_time_zone" },
        { "cron malformed", HttpStatusCode.BadRequest, "invalid_cron" },
        { "cron occurrences overlap", HttpStatusCode.BadRequest, "invalid_cron" },
        { "arm before negative (arm after the event)", HttpStatusCode.BadRequest, "invalid_arm_before" },
        { "arm before zero", HttpStatusCode.BadRequest, "invalid_arm_before" },
        { "arm before malformed", HttpStatusCode.BadRequest, "invalid_arm_before" },
        { "arm moment passed", HttpStatusCode.BadRequest, "invalid_arm_before" },
        { "disarm after missing", HttpStatusCode.BadRequest, "invalid_disarm_after" },
        { "disarm after negative", HttpStatusCode.BadRequest, "invalid_disarm_after" },
        { "flatten before disarm", HttpStatusCode.BadRequest, "invalid_flatten_after" },
        { "entry type unknown", HttpStatusCode.BadRequest, "invalid_entry" },
        { "entry distance negative", HttpStatusCode.BadRequest, "invalid_distance" },
        { "entry distance not a number", HttpStatusCode.BadRequest, "invalid_distance" },
        { "stop-loss distance negative", HttpStatusCode.BadRequest, "invalid_distance" },
        { "take-profit distance one", HttpStatusCode.BadRequest, "invalid_distance" },
        { "stop-loss missing", HttpStatusCode.BadRequest, "invalid_stop_loss" },
        { "sizing both", HttpStatusCode.BadRequest, "invalid_sizing" },
        { "sizing missing", HttpStatusCode.BadRequest, "invalid_sizing" },
        { "risk fraction above one", HttpStatusCode.BadRequest, "invalid_risk_fraction" },
        { "quantity off the lot step", HttpStatusCode.BadRequest, "invalid_lot_size" },
        { "misfire unknown", HttpStatusCode.BadRequest, "invalid_misfire" },
        { "allocation and bucket", HttpStatusCode.BadRequest, "invalid_allocation" },
        { "allocation zero", HttpStatusCode.BadRequest, "invalid_allocation" },
        { "bucket unknown", HttpStatusCode.NotFound, "not_found" },
        { "allocation above the wallet", HttpStatusCode.UnprocessableEntity, "insufficient_balance" },
    };

    private Dictionary<string, object?> InvalidPlan(string name, Trader t)
    {
        var b = Plan();
        switch (name)
        {
            case "name blank": b["name"] = " "; break;
            case "symbol unknown": b["symbol"] = "DOGE-USDT"; break;
            case "event missing": b.Remove("event"); break;
            case "event at and cron": b["event"] = new { at = Now.AddHours(1).ToString("O"), cron = "0 30 8 * * ?", timeZone = "UTC" }; break;
            case "event in the past": b["event"] = new { at = Now.AddMinutes(-1).ToString("O") }; break;
            case "event at malformed": b["event"] = new { at = "tomorrow at 8:30" }; break;
            case "time zone unknown": b["event"] = new { cron = "0 30 8 10 * ?", timeZone = "Mars/Olympus" }; break;
            case "time zone missing": b["event"] = new { cron = "0 30 8 10 * ?" }; break;
            case "cron malformed": b["event"] = new { cron = "0 61 8 * * ?", timeZone = "America/New_York" }; break;
            case "cron occurrences overlap": b["event"] = new { cron = "0 0/10 * * * ?", timeZone = "UTC" }; break;
            case "arm before negative (arm after the event)": b["armBefore"] = "-PT5M"; break;
            case "arm before zero": b["armBefore"] = "PT0S"; break;
            case "arm before malformed": b["armBefore"] = "5 minutes"; break;
            case "arm moment passed": b["event"] = new { at = Now.AddMinutes(3).ToString("O") }; break;
            case "disarm after missing": b.Remove("disarmAfter"); break;
            case "disarm after negative": b["disarmAfter"] = "-PT30M"; break;
            case "flatten before disarm": b["flattenAfter"] = "PT10M"; break;
            case "entry type unknown": b["entry"] = new { type = "strangle", distance = "0.006" }; break;
            case "entry distance negative": b["entry"] = new { type = "straddle", distance = "-0.006" }; break;
            case "entry distance not a number": b["entry"] = new { type = "straddle", distance = "wide" }; break;
            case "stop-loss distance negative": b["stopLoss"] = new { distance = "-0.003" }; break;
            case "take-profit distance one": b["takeProfit"] = new { distance = "1" }; break;
            case "stop-loss missing": b.Remove("stopLoss"); break;
            case "sizing both": b["sizing"] = new { riskFraction = "0.01", quantity = "0.01" }; break;
            case "sizing missing": b.Remove("sizing"); break;
            case "risk fraction above one": b["sizing"] = new { riskFraction = "1.5" }; break;
            case "quantity off the lot step": b["sizing"] = new { quantity = "0.0105" }; break;
            case "misfire unknown": b["misfire"] = "later"; break;
            case "allocation and bucket": b["bucketId"] = t.BucketId; break;
            case "allocation zero": b["allocation"] = "0"; break;
            case "bucket unknown": b.Remove("allocation"); b["bucketId"] = t.AccountId + "-b99"; break;
            case "allocation above the wallet": b["allocation"] = "6000"; break;
            default: throw new ArgumentException(name);
        }

        return b;
    }

    [Theory]
    [MemberData(nameof(InvalidPlans))]
    public async Task PostPlan_InvalidRequest_AnswersItsCodeAndChangesNothing(string name, HttpStatusCode status, string code)
    {
        var t = await app.CreateTraderAsync(wallet: "10000", bucket: "5000");
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);

        (await app.PostAsync($"{t.Path}/plans", InvalidPlan(name, t), t.ApiKey)).Problem(status, code);

        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
        Assert.Empty((await app.GetAsync($"{t.Path}/plans", t.ApiKey)).Status(HttpStatusCode.OK).Items());
    }

    [Fact]
    public async Task GetPlans_TwoPlans_ListsThemInOrderAndAnswersOneById()
    {
        var t = await app.CreateTraderAsync();
        var first = (await app.PostAsync($"{t.Path}/plans", Plan(), t.ApiKey)).Status(HttpStatusCode.Created);
        var body = Plan();
        body.Remove("allocation");
        body["entry"] = new { type = "sellStop", distance = "0.01" };
        body["sizing"] = new { quantity = "0.01" };
        var second = (await app.PostAsync($"{t.Path}/plans", body, t.ApiKey)).Status(HttpStatusCode.Created);

        var plans = (await app.GetAsync($"{t.Path}/plans", t.ApiKey)).Status(HttpStatusCode.OK).Items();

        Assert.Equal([first.Str("planId"), second.Str("planId")], plans.Select(p => p.Str("planId")));
        Assert.Equal((t.BucketId, false, "sellStop"), (plans[1].Str("bucketId"), plans[1].GetProperty("ownBucket").GetBoolean(), plans[1].GetProperty("entry").Str("type")));
        Assert.Equal(0.01m, plans[1].GetProperty("sizing").Dec("quantity"));
        var one = (await app.GetAsync($"{t.Path}/plans/{first.Str("planId")}", t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal(first.GetRawText(), one.GetRawText());
        var byOperator = (await app.GetAsync($"{t.Path}/plans/{first.Str("planId")}", EngineApp.OperatorKey)).Status(HttpStatusCode.OK);
        Assert.Equal(first.GetRawText(), byOperator.GetRawText());
    }

    [Fact]
    public async Task GetPlan_UnknownOrAnotherAccounts_Returns404()
    {
        var owner = await app.CreateTraderAsync("owner");
        var other = await app.CreateTraderAsync("other");
        var planId = (await app.PostAsync($"{owner.Path}/plans", Plan(), owner.ApiKey)).Status(HttpStatusCode.Created).Str("planId");

        (await app.GetAsync($"{owner.Path}/plans/{owner.AccountId}-p9", owner.ApiKey)).Problem(HttpStatusCode.NotFound, "not_found");
        (await app.GetAsync($"{owner.Path}/plans/{planId}", other.ApiKey)).Problem(HttpStatusCode.NotFound, "not_found");
        (await app.GetAsync($"{other.Path}/plans/{planId}", other.ApiKey)).Problem(HttpStatusCode.NotFound, "not_found");
        (await app.DeleteAsync($"{owner.Path}/plans/{planId}", other.ApiKey)).Problem(HttpStatusCode.NotFound, "not_found");
        (await app.GetAsync($"{owner.Path}/plans", null)).Problem(HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal("scheduled", (await app.GetAsync($"{owner.Path}/plans/{planId}", owner.ApiKey)).Status(HttpStatusCode.OK).Str("status"));
    }

    [Fact]
    public async Task DeletePlan_Scheduled_AnswersItCancelledAndASecondCancelIsRefused()
    {
        var t = await app.CreateTraderAsync();
        var planId = (await app.PostAsync($"{t.Path}/plans", Plan(), t.ApiKey)).Status(HttpStatusCode.Created).Str("planId");

        var cancelled = (await app.DeleteAsync($"{t.Path}/plans/{planId}", t.ApiKey)).Status(HttpStatusCode.OK);

        Assert.Equal("cancelled", cancelled.Str("status"));
        Assert.Equal(["created", "cancelled"], cancelled.Items("history").Select(h => h.Str("type")));
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);
        (await app.DeleteAsync($"{t.Path}/plans/{planId}", t.ApiKey)).Problem(HttpStatusCode.UnprocessableEntity, "plan_closed");
        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
    }

    [Fact]
    public async Task DeletePlan_Armed_CancelsItsUntriggeredOrders()
    {
        // Its own engine: the clock moves to the arm moment.
        await using var engine = new EngineApp(null, null, PlanApiTests.Settings);
        var t = await engine.CreateTraderAsync();
        await engine.SetPriceAsync(Btc, "64000");
        var at = engine.Clock.GetUtcNow().AddHours(1);
        var planId = (await engine.PostAsync($"{t.Path}/plans", PlanApiTests.CpiPlan(at), t.ApiKey)).Status(HttpStatusCode.Created).Str("planId");
        PlanApiTests.AdvanceTo(engine, at.AddMinutes(-5));
        var armed = await PlanApiTests.PollStatusAsync(engine, t, planId, "armed");

        var cancelled = (await engine.DeleteAsync($"{t.Path}/plans/{planId}", t.ApiKey)).Status(HttpStatusCode.OK);

        Assert.Equal("cancelled", cancelled.Str("status"));
        Assert.Empty(cancelled.Items("orderIds"));
        Assert.Empty((await engine.GetAsync($"{t.Path}/orders", t.ApiKey)).Status(HttpStatusCode.OK).Items());
        foreach (var id in armed.Items("orderIds").Select(o => o.GetString()))
        {
            var order = (await engine.GetAsync($"{t.Path}/orders/{id}", t.ApiKey)).Status(HttpStatusCode.OK);
            Assert.Equal("cancelled", order.Str("status"));
            Assert.Contains(order.Str("reason"), new[] { "plan_cancelled", "primary_not_filled" });
        }

        // Its disarm and flatten come and change nothing.
        PlanApiTests.AdvanceTo(engine, at.AddHours(4).AddMinutes(1));
        await engine.SetPriceAsync(Btc, "64000");
        Assert.Equal(cancelled.GetRawText(), (await engine.GetAsync($"{t.Path}/plans/{planId}", t.ApiKey)).Status(HttpStatusCode.OK).GetRawText());
    }

    [Fact]
    public async Task PostPlan_SameIdempotencyKeyTwice_CreatesOnePlanAndAnswersTheSame()
    {
        var t = await app.CreateTraderAsync();
        var headers = new Dictionary<string, string> { ["Idempotency-Key"] = "cpi-2026-01" };
        var body = Plan();

        var first = (await app.PostAsync($"{t.Path}/plans", body, t.ApiKey, headers)).Status(HttpStatusCode.Created);
        var again = (await app.PostAsync($"{t.Path}/plans", body, t.ApiKey, headers)).Status(HttpStatusCode.Created);

        Assert.Equal(first.GetRawText(), again.GetRawText());
        Assert.Single((await app.GetAsync($"{t.Path}/plans", t.ApiKey)).Status(HttpStatusCode.OK).Items());
        body["name"] = "another";
        (await app.PostAsync($"{t.Path}/plans", body, t.ApiKey, headers)).Problem(HttpStatusCode.Conflict, "duplicate_client_order_id");
        Assert.Single((await app.GetAsync($"{t.Path}/plans", t.ApiKey)).Status(HttpStatusCode.OK).Items());
    }

    [Fact]
    public async Task PostPlan_RecurringCron_StartsAtTheFirstOccurrenceWhoseArmIsAhead()
    {
        var t = await app.CreateTraderAsync();
        var body = Plan();
        // Every day at 12:03 UTC; the clock is at 12:00, so today's arm (11:58) has passed: tomorrow's is the first.
        body["event"] = new { cron = "0 3 12 * * ?", timeZone = "UTC" };

        var plan = (await app.PostAsync($"{t.Path}/plans", body, t.ApiKey)).Status(HttpStatusCode.Created);

        var tomorrow = new DateTimeOffset(Now.Date.AddDays(1).AddHours(12).AddMinutes(3), TimeSpan.Zero);
        Assert.Equal((tomorrow, "scheduled"), (plan.GetProperty("eventAt").GetDateTimeOffset(), plan.Str("status")));
        Assert.False(plan.GetProperty("event").TryGetProperty("at", out _));
    }

    // ---- the position-size tool ----

    [Fact]
    public async Task PositionSize_Long_AnswersTheQuantityMarginAndLiquidation()
    {
        var t = await app.CreateTraderAsync();

        var size = (await app.PostAsync("/v1/tools/position-size",
            new { equity = "10000", riskFraction = "0.01", entryPrice = "64000", stopPrice = "63360", leverage = 10, symbol = Btc }, t.ApiKey)).Status(HttpStatusCode.OK);

        // Risk 100 USDT. Per BTC: 640 to the stop plus taker fees (64,000 + 63,360) × 0.0005 = 63.68, so 100 / 703.68
        // = 0.1421… → 0.142 (lot 0.001). Notional 9,088, margin at 10x 908.8; liquidation where margin plus PnL meets
        // the 0.4% maintenance: (9,088 − 908.8) / (0.142 × 0.996) = 57,831.33 → 57,831.4 (up to the 0.1 tick).
        Assert.Equal((Btc, "long"), (size.Str("symbol"), size.Str("side")));
        Assert.Equal((0.142m, 9088m, 908.8m, 57831.4m), (size.Dec("quantity"), size.Dec("notional"), size.Dec("margin"), size.Dec("liquidationPrice")));
        // Losing 0.142 × 640 = 90.88 plus fees 4.544 and 4.49856 at the stop: 99.92256 of the 100 risked.
        Assert.Equal((100m, 99.92256m), (size.Dec("riskAmount"), size.Dec("lossAtStop")));
    }

    [Fact]
    public async Task PositionSize_Short_AnswersTheQuantityMarginAndLiquidation()
    {
        var size = (await app.PostAsync("/v1/tools/position-size",
            new { equity = 5000, riskFraction = 0.02, entryPrice = 3000, stopPrice = 3060, leverage = 5, symbol = "ETH-USDT" }, EngineApp.OperatorKey)).Status(HttpStatusCode.OK);

        // Risk 100; per ETH 60 + (3,000 + 3,060) × 0.0005 = 63.03, so 1.586 ETH (lot 0.001); notional 4,758, margin 951.6;
        // a short is liquidated at (4,758 + 951.6) / (1.586 × 1.005) = 3,582.0896 → 3,582.08 (down to the 0.01 tick).
        Assert.Equal(("short", 1.586m, 4758m, 951.6m, 3582.08m, 99.96558m),
            (size.Str("side"), size.Dec("quantity"), size.Dec("notional"), size.Dec("margin"), size.Dec("liquidationPrice"), size.Dec("lossAtStop")));
    }

    public static TheoryData<string, HttpStatusCode, string> InvalidSizes() => new()
    {
        { """{"equity":"10000","riskFraction":"0.01","entryPrice":"64000","stopPrice":"63360","leverage":10,"symbol":"DOGE-USDT"}""", HttpStatusCode.BadRequest, "unknown_symbol" },
        { """{"equity":"10000","riskFraction":"0.01","entryPrice":"64000","stopPrice":"63360","leverage":126,"symbol":"BTC-USDT"}""", HttpStatusCode.BadRequest, "invalid_leverage" },
        { """{"equity":"10000","riskFraction":"0.01","entryPrice":"64000","stopPrice":"63360","symbol":"BTC-USDT"}""", HttpStatusCode.BadRequest, "invalid_leverage" },
        { """{"equity":"10000","riskFraction":"0.01","entryPrice":"64000","stopPrice":"64000","leverage":10,"symbol":"BTC-USDT"}""", HttpStatusCode.BadRequest, "invalid_stop_price" },
        { """{"equity":"10000","riskFraction":"0","entryPrice":"64000","stopPrice":"63360","leverage":10,"symbol":"BTC-USDT"}""", HttpStatusCode.BadRequest, "invalid_risk_fraction" },
        { """{"equity":"-1","riskFraction":"0.01","entryPrice":"64000","stopPrice":"63360","leverage":10,"symbol":"BTC-USDT"}""", HttpStatusCode.BadRequest, "invalid_equity" },
        { """{"equity":"10000","riskFraction":"0.01","entryPrice":"-64000","stopPrice":"63360","leverage":10,"symbol":"BTC-USDT"}""", HttpStatusCode.BadRequest, "invalid_entry_price" },
        { """{"equity":"10000","riskFraction":"0.01","entryPrice":"64000","stopPrice":"x","leverage":10,"symbol":"BTC-USDT"}""", HttpStatusCode.BadRequest, "invalid_stop_price" },
        // At 10x a long from 64,000 is liquidated at 57,831.4: a stop at 57,800 would never protect it.
        { """{"equity":"10000","riskFraction":"0.01","entryPrice":"64000","stopPrice":"57800","leverage":10,"symbol":"BTC-USDT"}""", HttpStatusCode.UnprocessableEntity, "stop_beyond_liquidation" },
        // 10 USDT at 1% risks 0.10: 0.0001 BTC, below the 0.001 minimum.
        { """{"equity":"10","riskFraction":"0.01","entryPrice":"64000","stopPrice":"63360","leverage":10,"symbol":"BTC-USDT"}""", HttpStatusCode.UnprocessableEntity, "below_minimum" },
    };

    [Theory]
    [MemberData(nameof(InvalidSizes))]
    public async Task PositionSize_InvalidRequest_AnswersItsCode(string body, HttpStatusCode status, string code)
    {
        (await app.PostAsync("/v1/tools/position-size", body, EngineApp.OperatorKey)).Problem(status, code);
    }

    [Fact]
    public async Task PositionSize_NoKey_Returns401()
    {
        (await app.PostAsync("/v1/tools/position-size", new { equity = "1" }, null)).Problem(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task OpenApi_Document_DescribesThePlanAndToolEndpoints()
    {
        var doc = (await app.GetAsync("/openapi/v1.json", null)).Status(HttpStatusCode.OK);
        var paths = doc.GetProperty("paths");

        foreach (var (path, method) in new[]
                 {
                     ("/v1/accounts/{accountId}/plans", "post"), ("/v1/accounts/{accountId}/plans", "get"),
                     ("/v1/accounts/{accountId}/plans/{planId}", "get"), ("/v1/accounts/{accountId}/plans/{planId}", "delete"),
                     ("/v1/tools/position-size", "post"),
                 })
            Assert.True(paths.TryGetProperty(path, out var item) && item.TryGetProperty(method, out _), $"{method} {path} is missing from the OpenAPI document");

        var schemas = doc.GetProperty("components").GetProperty("schemas");
        var status = schemas.GetProperty("PlanStatus").GetProperty("enum").Items().Select(e => e.GetString() ?? "").ToArray();
        Assert.Equal(["scheduled", "armed", "disarmed", "completed", "cancelled"], status);
        var quantity = schemas.GetProperty("PositionSizeResponse").GetProperty("properties").GetProperty("quantity").GetProperty("type");
        Assert.Equal("string", quantity.ValueKind == JsonValueKind.Array ? quantity[0].GetString() : quantity.GetString());
    }
}
