using System.Net;
using System.Text.Json;

namespace Engine.Tests.Api;

/// <summary>
/// The risk controls through the real HTTP pipeline, in driven time: kill switches, the dead man's
/// switch, daily loss limits, circuit breakers and operator halts, wick protection, the stop-limit
/// gap fallback and the price band. Each test trades its own symbol (see <see cref="RiskEngineApp"/>).
/// </summary>
public sealed class RiskApiTests(RiskEngineApp app) : IClassFixture<RiskEngineApp>
{
    private Task<(HttpStatusCode Status, JsonElement Body)> Place(Trader t, object body) => app.PostAsync($"{t.Path}/orders", body, t.ApiKey);

    private async Task<JsonElement> Order(Trader t, string orderId) => (await app.GetAsync($"{t.Path}/orders/{orderId}", t.ApiKey)).Status(HttpStatusCode.OK);

    private async Task<JsonElement> Bucket(Trader t, string bucketId) => (await app.GetAsync($"{t.Path}/buckets/{bucketId}", t.ApiKey)).Status(HttpStatusCode.OK);

    private async Task<JsonElement> Status(string symbol) => (await app.GetAsync($"/v1/symbols/{symbol}/status", EngineApp.OperatorKey)).Status(HttpStatusCode.OK);

    private async Task<string> NewBucketAsync(Trader t, string name, string allocation, string? dailyLossLimit = null) =>
        (await app.PostAsync($"{t.Path}/buckets", dailyLossLimit is null ? new { name, allocation } : new { name, allocation, dailyLossLimit }, t.ApiKey))
        .Status(HttpStatusCode.Created).Str("bucketId");

    private async Task<string> PlaceOkAsync(Trader t, object body) => (await Place(t, body)).Status(HttpStatusCode.Created).Str("orderId");

    /// <summary>
    /// A price, then a read on the trader's shard: the shard has taken the price (at the engine time of
    /// now) before the test moves the clock on. Without the read, the shard could take the price after a
    /// later Advance and date what it does then.
    /// </summary>
    private async Task PriceAsync(Trader t, string symbol, string price)
    {
        await app.SetPriceAsync(symbol, price);
        (await app.GetAsync(t.Path, t.ApiKey)).Status(HttpStatusCode.OK);
    }

    // ---- kill switch ----

    [Fact]
    public async Task KillSwitch_OneBucket_OtherBucketKeepsTrading()
    {
        var t = await app.CreateTraderAsync(wallet: "20000");
        var swing = await NewBucketAsync(t, "swing", "5000");
        await PriceAsync(t, "BTC-USDT", "60000");
        await PlaceOkAsync(t, new { symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.01" });
        await PlaceOkAsync(t, new { bucketId = swing, symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.01" });
        var manualStop = await PlaceOkAsync(t, new { symbol = "BTC-USDT", side = "sell", type = "stop", quantity = "0.01", triggerPrice = "59000", reduceOnly = true });
        var swingStop = await PlaceOkAsync(t, new { bucketId = swing, symbol = "BTC-USDT", side = "sell", type = "stop", quantity = "0.01", triggerPrice = "59000", reduceOnly = true });

        var killed = (await app.PostAsync($"{t.Path}/kill-switch", new { bucketId = swing }, t.ApiKey)).Status(HttpStatusCode.OK);

        Assert.Equal((swing, true, 1, 1, 0), (killed.Str("bucketId"), killed.GetProperty("active").GetBoolean(), killed.GetProperty("cancelledOrders").GetInt32(),
            killed.GetProperty("closedPositions").GetInt32(), killed.GetProperty("pendingPositions").GetInt32()));
        var swingView = await Bucket(t, swing);
        Assert.True(swingView.GetProperty("locked").GetBoolean());
        Assert.Equal("kill_switch", swingView.Str("lockReason"));
        Assert.Empty(swingView.Items("positions"));
        var cancelled = await Order(t, swingStop);
        Assert.Equal(("cancelled", "kill_switch"), (cancelled.Str("status"), cancelled.Str("reason")));

        // The killed bucket refuses new orders and nothing changes...
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);
        (await Place(t, new { bucketId = swing, symbol = "BTC-USDT", side = "buy", type = "limit", quantity = "0.01", price = "59000" }))
            .Problem(HttpStatusCode.UnprocessableEntity, "trading_disabled");
        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));

        // ...while the other bucket trades on and its stop still protects it.
        var manualView = await Bucket(t, t.BucketId);
        Assert.False(manualView.GetProperty("locked").GetBoolean());
        await PlaceOkAsync(t, new { symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.01" });
        Assert.Equal("untriggered", (await Order(t, manualStop)).Str("status"));
        await PriceAsync(t, "BTC-USDT", "58900");
        Assert.Equal("filled", (await Order(t, manualStop)).Str("status"));

        var released = (await app.DeleteAsync($"{t.Path}/kill-switch?bucketId={swing}", t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.False(released.GetProperty("active").GetBoolean());
        Assert.False((await Bucket(t, swing)).GetProperty("locked").GetBoolean());
        await PlaceOkAsync(t, new { bucketId = swing, symbol = "BTC-USDT", side = "buy", type = "limit", quantity = "0.01", price = "58000" });
    }

    [Fact]
    public async Task KillSwitch_Account_CancelsAndClosesEverythingAndRefusesEveryBucketUntilReleased()
    {
        var t = await app.CreateTraderAsync(wallet: "20000");
        var second = await NewBucketAsync(t, "second", "5000");
        await PriceAsync(t, "ETH-USDT", "3000");
        await PlaceOkAsync(t, new { symbol = "ETH-USDT", side = "sell", type = "market", quantity = "0.5" });
        await PlaceOkAsync(t, new { bucketId = second, symbol = "ETH-USDT", side = "buy", type = "limit", quantity = "0.5", price = "2950" });
        await PlaceOkAsync(t, new { bucketId = second, symbol = "ETH-USDT", side = "buy", type = "stop", quantity = "0.5", triggerPrice = "3050" });

        // No body: the whole account.
        var killed = (await app.SendAsync(HttpMethod.Post, $"{t.Path}/kill-switch", null, t.ApiKey)).Status(HttpStatusCode.OK);

        Assert.Equal((2, 1), (killed.GetProperty("cancelledOrders").GetInt32(), killed.GetProperty("closedPositions").GetInt32()));
        Assert.False(killed.TryGetProperty("bucketId", out _));
        var account = (await app.GetAsync(t.Path, t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.True(account.GetProperty("killSwitch").GetBoolean());
        Assert.All(account.Items("buckets"), b => Assert.Equal("kill_switch", b.Str("lockReason")));
        Assert.Empty((await app.GetAsync($"{t.Path}/orders", t.ApiKey)).Status(HttpStatusCode.OK).Items());
        Assert.Empty((await app.GetAsync($"{t.Path}/positions", t.ApiKey)).Status(HttpStatusCode.OK).Items());

        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);
        (await Place(t, new { symbol = "ETH-USDT", side = "buy", type = "market", quantity = "0.1" })).Problem(HttpStatusCode.UnprocessableEntity, "trading_disabled");
        (await Place(t, new { bucketId = second, symbol = "ETH-USDT", side = "buy", type = "limit", quantity = "0.1", price = "2900" }))
            .Problem(HttpStatusCode.UnprocessableEntity, "trading_disabled");
        (await app.PostAsync($"{t.Path}/order-lists", new
        {
            type = "oco",
            legs = new object[]
            {
                new { symbol = "ETH-USDT", side = "buy", type = "limit", quantity = "0.1", price = "2900" },
                new { symbol = "ETH-USDT", side = "buy", type = "stop", quantity = "0.1", triggerPrice = "3100" },
            },
        }, t.ApiKey)).Problem(HttpStatusCode.UnprocessableEntity, "trading_disabled");
        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));

        var events = (await app.GetAsync($"{t.Path}/events", t.ApiKey)).Status(HttpStatusCode.OK).Items();
        Assert.Contains(events, e => e.Str("type") == "killSwitchEngaged");

        (await app.DeleteAsync($"{t.Path}/kill-switch", t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.False((await app.GetAsync(t.Path, t.ApiKey)).Status(HttpStatusCode.OK).GetProperty("killSwitch").GetBoolean());
        await PlaceOkAsync(t, new { bucketId = second, symbol = "ETH-USDT", side = "buy", type = "market", quantity = "0.1" });
    }

    // ---- dead man's switch ----

    [Fact]
    public async Task DeadManSwitch_DeadlinePasses_CancelsEntriesAndKeepsProtectiveOrders()
    {
        var t = await app.CreateTraderAsync();
        await PriceAsync(t, "SOL-USDT", "150");
        await PlaceOkAsync(t, new { symbol = "SOL-USDT", side = "buy", type = "market", quantity = "2" });
        var stopLoss = await PlaceOkAsync(t, new { symbol = "SOL-USDT", side = "sell", type = "stop", quantity = "2", triggerPrice = "140", reduceOnly = true });
        var takeProfit = await PlaceOkAsync(t, new { symbol = "SOL-USDT", side = "sell", type = "takeProfit", closePosition = true, triggerPrice = "165" });
        var entryLimit = await PlaceOkAsync(t, new { symbol = "SOL-USDT", side = "buy", type = "limit", quantity = "1", price = "145" });
        var entryStop = await PlaceOkAsync(t, new { symbol = "SOL-USDT", side = "buy", type = "stop", quantity = "1", triggerPrice = "155" });

        var armed = (await app.PostAsync($"{t.Path}/cancel-all-after", new { timeoutSeconds = 10 }, t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.True(armed.GetProperty("armed").GetBoolean());
        Assert.Equal(app.Clock.GetUtcNow().AddSeconds(10), armed.GetProperty("deadline").GetDateTimeOffset());

        app.Clock.Advance(TimeSpan.FromSeconds(9.9));
        Assert.Equal(4, (await app.GetAsync($"{t.Path}/orders", t.ApiKey)).Status(HttpStatusCode.OK).Items().Length);
        app.Clock.Advance(TimeSpan.FromSeconds(0.1));

        foreach (var entry in new[] { entryLimit, entryStop })
        {
            var order = await Order(t, entry);
            Assert.Equal(("cancelled", "cancel_all_after"), (order.Str("status"), order.Str("reason")));
        }

        Assert.Equal("untriggered", (await Order(t, stopLoss)).Str("status"));
        Assert.Equal("untriggered", (await Order(t, takeProfit)).Str("status"));
        Assert.Single((await app.GetAsync($"{t.Path}/positions", t.ApiKey)).Status(HttpStatusCode.OK).Items());
        var state = (await app.GetAsync($"{t.Path}/cancel-all-after", t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.False(state.GetProperty("armed").GetBoolean());
        var events = (await app.GetAsync($"{t.Path}/events", t.ApiKey)).Status(HttpStatusCode.OK).Items();
        Assert.Contains(events, e => e.Str("type") == "cancelAllAfterTriggered");
    }

    [Fact]
    public async Task DeadManSwitch_RefreshedInTimeThenDisarmed_CancelsNothing()
    {
        var t = await app.CreateTraderAsync();
        await PriceAsync(t, "SOL-USDT", "150");
        var entry = await PlaceOkAsync(t, new { symbol = "SOL-USDT", side = "buy", type = "limit", quantity = "1", price = "145" });

        for (var i = 0; i < 3; i++)
        {
            (await app.PostAsync($"{t.Path}/cancel-all-after", new { timeoutSeconds = 5 }, t.ApiKey)).Status(HttpStatusCode.OK);
            app.Clock.Advance(TimeSpan.FromSeconds(4));
        }

        var disarmed = (await app.PostAsync($"{t.Path}/cancel-all-after", new { timeoutSeconds = 0 }, t.ApiKey)).Status(HttpStatusCode.OK);
        app.Clock.Advance(TimeSpan.FromSeconds(30));

        Assert.False(disarmed.GetProperty("armed").GetBoolean());
        Assert.Equal("open", (await Order(t, entry)).Str("status"));
    }

    // ---- circuit breakers and halts ----

    [Fact]
    public async Task CircuitBreaker_FivePercentJumpWithinTheWindow_PausesAndResumesAtTheResumePrice()
    {
        var t = await app.CreateTraderAsync();
        await PriceAsync(t, "XRP-USDT", "0.5");
        var stop = await PlaceOkAsync(t, new { symbol = "XRP-USDT", side = "sell", type = "stop", quantity = "100", triggerPrice = "0.49" });
        var wickStop = await PlaceOkAsync(t, new { symbol = "XRP-USDT", side = "sell", type = "stop", quantity = "100", triggerPrice = "0.47" });
        app.Clock.Advance(TimeSpan.FromSeconds(20));

        await PriceAsync(t, "XRP-USDT", "0.475");

        var halted = await Status("XRP-USDT");
        Assert.True(halted.GetProperty("halted").GetBoolean());
        Assert.Equal("price_move", halted.Str("reason"));
        Assert.Equal(app.Clock.GetUtcNow(), halted.GetProperty("since").GetDateTimeOffset());
        Assert.Equal(app.Clock.GetUtcNow().AddSeconds(30), halted.GetProperty("until").GetDateTimeOffset());
        Assert.Equal("untriggered", (await Order(t, stop)).Str("status"));

        // While paused: a market order is refused and changes nothing; prices keep coming.
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);
        (await Place(t, new { symbol = "XRP-USDT", side = "buy", type = "market", quantity = "100" })).Problem(HttpStatusCode.UnprocessableEntity, "symbol_halted");
        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
        app.Clock.Advance(TimeSpan.FromSeconds(10));
        await PriceAsync(t, "XRP-USDT", "0.4812");
        Assert.Equal("untriggered", (await Order(t, stop)).Str("status"));

        app.Clock.Advance(TimeSpan.FromSeconds(20));

        Assert.False((await Status("XRP-USDT")).GetProperty("halted").GetBoolean());
        var fired = await Order(t, stop);
        Assert.Equal(("filled", 0.4812m, 0.4812m), (fired.Str("status"), fired.Dec("triggeredPrice"), fired.Dec("averageFillPrice")));
        // The 0.475 print was inside the pause: the stop at 0.47 never saw a price at or below it.
        Assert.Equal("untriggered", (await Order(t, wickStop)).Str("status"));
    }

    [Fact]
    public async Task CircuitBreaker_IndexDegraded_PausesUntilEnoughSourcesAreFreshAgain()
    {
        var t = await app.CreateTraderAsync();
        async Task Tick(string source, string price) =>
            (await app.PostAsync("/v1/prices", new { ticks = new[] { new { source, symbol = "ARB-USDT", price } } }, EngineApp.OperatorKey)).Status(HttpStatusCode.OK);
        await Tick("venue-a", "1.0");
        await Tick("venue-b", "1.0");
        var stop = await PlaceOkAsync(t, new { symbol = "ARB-USDT", side = "sell", type = "stop", quantity = "20", triggerPrice = "0.99" });
        Assert.False((await Status("ARB-USDT")).GetProperty("halted").GetBoolean());

        // venue-b goes quiet: after the 10 s staleness only one source backs the index.
        app.Clock.Advance(TimeSpan.FromSeconds(6));
        await Tick("venue-a", "0.995");
        app.Clock.Advance(TimeSpan.FromSeconds(5));

        var halted = await Status("ARB-USDT");
        Assert.Equal((true, "index_degraded"), (halted.GetProperty("halted").GetBoolean(), halted.Str("reason")));
        Assert.False(halted.TryGetProperty("until", out _));
        await Tick("venue-a", "0.985");
        Assert.Equal("untriggered", (await Order(t, stop)).Str("status"));

        await Tick("venue-b", "0.986");

        Assert.False((await Status("ARB-USDT")).GetProperty("halted").GetBoolean());
        var fired = await Order(t, stop);
        Assert.Equal("filled", fired.Str("status"));
        Assert.Equal(0.9855m, fired.Dec("triggeredPrice"));
    }

    [Fact]
    public async Task OperatorHalt_WithUntil_HaltsThenResumesByItself()
    {
        var t = await app.CreateTraderAsync();
        await PriceAsync(t, "OP-USDT", "2");
        var stop = await PlaceOkAsync(t, new { symbol = "OP-USDT", side = "buy", type = "stop", quantity = "10", triggerPrice = "2.02" });
        var until = app.Clock.GetUtcNow().AddSeconds(60);

        var halted = (await app.PostAsync("/v1/operator/symbols/OP-USDT/halt", new { until }, EngineApp.OperatorKey)).Status(HttpStatusCode.OK);

        Assert.Equal((true, "operator", until), (halted.GetProperty("halted").GetBoolean(), halted.Str("reason"), halted.GetProperty("until").GetDateTimeOffset()));
        Assert.Equal("operator", (await Status("OP-USDT")).Str("reason"));
        await PriceAsync(t, "OP-USDT", "2.03");
        Assert.Equal("untriggered", (await Order(t, stop)).Str("status"));
        app.Clock.Advance(TimeSpan.FromSeconds(59.9));
        Assert.True((await Status("OP-USDT")).GetProperty("halted").GetBoolean());

        app.Clock.Advance(TimeSpan.FromSeconds(0.1));

        Assert.False((await Status("OP-USDT")).GetProperty("halted").GetBoolean());
        Assert.Equal(("filled", 2.03m), ((await Order(t, stop)).Str("status"), (await Order(t, stop)).Dec("averageFillPrice")));
    }

    [Fact]
    public async Task OperatorHaltAndResume_ByHand_StatusFollowsAndOnlyTheOperatorMayDoIt()
    {
        var t = await app.CreateTraderAsync();
        await PriceAsync(t, "RENDER-USDT", "7");

        (await app.PostAsync("/v1/operator/symbols/RENDER-USDT/halt", null, t.ApiKey)).Problem(HttpStatusCode.NotFound, "not_found");
        (await app.PostAsync("/v1/operator/symbols/RENDER-USDT/halt", null, null)).Problem(HttpStatusCode.Unauthorized, "unauthorized");
        (await app.PostAsync("/v1/operator/symbols/RENDER-USDT/resume", null, t.ApiKey)).Problem(HttpStatusCode.NotFound, "not_found");
        Assert.False((await Status("RENDER-USDT")).GetProperty("halted").GetBoolean());

        var halted = (await app.PostAsync("/v1/operator/symbols/RENDER-USDT/halt", null, EngineApp.OperatorKey)).Status(HttpStatusCode.OK);
        Assert.True(halted.GetProperty("halted").GetBoolean());
        Assert.False(halted.TryGetProperty("until", out _));
        // Any valid key reads the status.
        Assert.True((await app.GetAsync("/v1/symbols/RENDER-USDT/status", t.ApiKey)).Status(HttpStatusCode.OK).GetProperty("halted").GetBoolean());
        app.Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.True((await Status("RENDER-USDT")).GetProperty("halted").GetBoolean());

        var resumed = (await app.PostAsync("/v1/operator/symbols/RENDER-USDT/resume", null, EngineApp.OperatorKey)).Status(HttpStatusCode.OK);

        Assert.False(resumed.GetProperty("halted").GetBoolean());
        Assert.False(resumed.TryGetProperty("reason", out _));
        await PlaceOkAsync(t, new { symbol = "RENDER-USDT", side = "buy", type = "market", quantity = "1" });
    }

    [Fact]
    public async Task SymbolEndpoints_UnknownSymbolOrPastUntil_ErrorAndNothingHalts()
    {
        (await app.GetAsync("/v1/symbols/DOGE-USDT/status", EngineApp.OperatorKey)).Problem(HttpStatusCode.NotFound, "not_found");
        (await app.PostAsync("/v1/operator/symbols/DOGE-USDT/halt", null, EngineApp.OperatorKey)).Problem(HttpStatusCode.NotFound, "not_found");
        (await app.PostAsync("/v1/operator/symbols/DOGE-USDT/resume", null, EngineApp.OperatorKey)).Problem(HttpStatusCode.NotFound, "not_found");
        (await app.GetAsync("/v1/symbols/BNB-USDT/status", null)).Problem(HttpStatusCode.Unauthorized, "unauthorized");

        (await app.PostAsync("/v1/operator/symbols/BNB-USDT/halt", new { until = app.Clock.GetUtcNow().AddSeconds(-1) }, EngineApp.OperatorKey))
            .Problem(HttpStatusCode.BadRequest, "invalid_until");
        (await app.PostAsync("/v1/operator/symbols/BNB-USDT/halt", new { until = app.Clock.GetUtcNow() }, EngineApp.OperatorKey))
            .Problem(HttpStatusCode.BadRequest, "invalid_until");
        (await app.PostAsync("/v1/operator/symbols/BNB-USDT/halt", "{\"until\":\"soon\"}", EngineApp.OperatorKey))
            .Problem(HttpStatusCode.BadRequest, "invalid_until");

        Assert.False((await Status("BNB-USDT")).GetProperty("halted").GetBoolean());
    }

    // ---- wick protection ----

    [Fact]
    public async Task WickProtection_OneTickWickDoesNotFireAConfirmedStop_ASustainedMoveDoes()
    {
        var t = await app.CreateTraderAsync();
        await PriceAsync(t, "FET-USDT", "1.5");
        var stop = await PlaceOkAsync(t, new { symbol = "FET-USDT", side = "sell", type = "stop", quantity = "10", triggerPrice = "1.47", triggerConfirmation = "PT2S" });
        Assert.Equal("PT2S", (await Order(t, stop)).Str("triggerConfirmation"));

        // A one-tick wick through the trigger...
        await PriceAsync(t, "FET-USDT", "1.46");
        var confirming = await Order(t, stop);
        Assert.Equal("untriggered", confirming.Str("status"));
        Assert.Equal(app.Clock.GetUtcNow().AddSeconds(2), confirming.GetProperty("confirmingUntil").GetDateTimeOffset());
        app.Clock.Advance(TimeSpan.FromMilliseconds(300));
        await PriceAsync(t, "FET-USDT", "1.49");
        app.Clock.Advance(TimeSpan.FromMilliseconds(1700));

        // ...does not fire it: it waits again.
        var waiting = await Order(t, stop);
        Assert.Equal("untriggered", waiting.Str("status"));
        Assert.False(waiting.TryGetProperty("confirmingUntil", out _));
        Assert.Empty((await app.GetAsync($"{t.Path}/fills", t.ApiKey)).Status(HttpStatusCode.OK).Items());

        // A move that holds for the confirmation does.
        await PriceAsync(t, "FET-USDT", "1.465");
        app.Clock.Advance(TimeSpan.FromSeconds(1));
        await PriceAsync(t, "FET-USDT", "1.462");
        app.Clock.Advance(TimeSpan.FromSeconds(1));

        var fired = await Order(t, stop);
        var events = (await app.GetAsync($"{t.Path}/events", t.ApiKey)).Status(HttpStatusCode.OK).Items();
        Assert.Equal(("filled", 1.462m), (fired.Str("status"), fired.Dec("averageFillPrice")));
        Assert.Equal(2, events.Count(e => e.Str("type") == "triggerConfirmationStarted"));
        Assert.Single(events, e => e.Str("type") == "triggerConfirmationFailed");
        Assert.Equal("PT2S", events.First(e => e.Str("type") == "orderAccepted" && e.GetProperty("order").Str("orderId") == stop).GetProperty("order").Str("triggerConfirmation"));
    }

    // ---- stop-limit gap fallback ----

    [Fact]
    public async Task StopLimitFallback_GapLeavesTheLimitUnfilled_ConvertedToMarketAfterItsTime()
    {
        var t = await app.CreateTraderAsync();
        await PriceAsync(t, "POL-USDT", "0.5");
        await PlaceOkAsync(t, new { symbol = "POL-USDT", side = "buy", type = "market", quantity = "100" });
        var stop = await PlaceOkAsync(t, new
        {
            symbol = "POL-USDT", side = "sell", type = "stopLimit", quantity = "100", triggerPrice = "0.495", price = "0.494", reduceOnly = true,
            fallback = new { after = "PT5S", action = "market" },
        });
        var placed = await Order(t, stop);
        Assert.Equal(("PT5S", "market"), (placed.GetProperty("fallback").Str("after"), placed.GetProperty("fallback").Str("action")));

        // The price gaps through the trigger and the limit: the limit rests unfilled.
        await PriceAsync(t, "POL-USDT", "0.49");
        Assert.Equal("open", (await Order(t, stop)).Str("status"));
        app.Clock.Advance(TimeSpan.FromSeconds(4.9));
        Assert.Equal("open", (await Order(t, stop)).Str("status"));

        app.Clock.Advance(TimeSpan.FromSeconds(0.1));

        var filled = await Order(t, stop);
        Assert.Equal(("filled", 0.49m), (filled.Str("status"), filled.Dec("averageFillPrice")));
        Assert.Empty((await app.GetAsync($"{t.Path}/positions", t.ApiKey)).Status(HttpStatusCode.OK).Items());
        var converted = (await app.GetAsync($"{t.Path}/events", t.ApiKey)).Status(HttpStatusCode.OK).Items().Single(e => e.Str("type") == "orderConvertedToMarket");
        Assert.Equal((stop, "fallback_timeout"), (converted.Str("orderId"), converted.Str("reason")));
    }

    // ---- daily loss limit ----

    [Fact]
    public async Task DailyLossLimit_LossReached_FlattensAndLocksOnlyItsBucket()
    {
        var t = await app.CreateTraderAsync(wallet: "20000");
        var capped = await NewBucketAsync(t, "capped", "2000", dailyLossLimit: "20");
        Assert.Equal(20m, (await Bucket(t, capped)).Dec("dailyLossLimit"));
        await PriceAsync(t, "BNB-USDT", "600");
        await PlaceOkAsync(t, new { bucketId = capped, symbol = "BNB-USDT", side = "buy", type = "market", quantity = "1" });
        await PlaceOkAsync(t, new { symbol = "BNB-USDT", side = "buy", type = "market", quantity = "1" });
        var cappedStop = await PlaceOkAsync(t, new { bucketId = capped, symbol = "BNB-USDT", side = "sell", type = "stop", quantity = "1", triggerPrice = "570", reduceOnly = true });

        // 0.3 fee + 15 unrealized: 15.3 lost, under the limit.
        await PriceAsync(t, "BNB-USDT", "585");
        var under = await Bucket(t, capped);
        Assert.Equal((false, 15.3m), (under.GetProperty("locked").GetBoolean(), under.Dec("dailyLoss")));

        // 0.3 fee + 20.5 unrealized: 20.8, at or beyond the limit.
        await PriceAsync(t, "BNB-USDT", "579.5");

        var locked = await Bucket(t, capped);
        Assert.True(locked.GetProperty("locked").GetBoolean());
        Assert.Equal("daily_loss_limit", locked.Str("lockReason"));
        Assert.Empty(locked.Items("positions"));
        var stop = await Order(t, cappedStop);
        Assert.Equal(("cancelled", "daily_loss_limit"), (stop.Str("status"), stop.Str("reason")));
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);
        (await Place(t, new { bucketId = capped, symbol = "BNB-USDT", side = "buy", type = "market", quantity = "1" })).Problem(HttpStatusCode.UnprocessableEntity, "trading_disabled");
        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));

        // The manual bucket keeps its position and trades on.
        var manual = await Bucket(t, t.BucketId);
        Assert.False(manual.GetProperty("locked").GetBoolean());
        Assert.Single(manual.Items("positions"));
        await PlaceOkAsync(t, new { symbol = "BNB-USDT", side = "buy", type = "market", quantity = "1" });

        var released = (await app.PostAsync($"{t.Path}/buckets/{capped}/daily-loss-limit/release", null, t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.False(released.GetProperty("locked").GetBoolean());
        Assert.Equal(0m, released.Dec("dailyLoss"));
        await PlaceOkAsync(t, new { bucketId = capped, symbol = "BNB-USDT", side = "buy", type = "limit", quantity = "1", price = "565" });

        var removed = (await app.PutAsync($"{t.Path}/buckets/{capped}/daily-loss-limit", new { dailyLossLimit = (string?)null }, t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.False(removed.TryGetProperty("dailyLossLimit", out _));
        var set = (await app.PutAsync($"{t.Path}/buckets/{capped}/daily-loss-limit", new { dailyLossLimit = "35.5" }, t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal(35.5m, set.Dec("dailyLossLimit"));
    }

    // ---- every new error: a stable code, and nothing changes ----

    public static TheoryData<string, string, object, HttpStatusCode, string> InvalidRequests() => new()
    {
        { "POST", "/orders", new { symbol = "SOL-USDT", side = "sell", type = "stop", quantity = "1", triggerPrice = "140", triggerConfirmation = "2 seconds" }, HttpStatusCode.BadRequest, "invalid_trigger_confirmation" },
        { "POST", "/orders", new { symbol = "SOL-USDT", side = "sell", type = "stop", quantity = "1", triggerPrice = "140", triggerConfirmation = "P1M" }, HttpStatusCode.BadRequest, "invalid_trigger_confirmation" },
        { "POST", "/orders", new { symbol = "SOL-USDT", side = "sell", type = "stop", quantity = "1", triggerPrice = "140", triggerConfirmation = "PT0S" }, HttpStatusCode.BadRequest, "invalid_trigger_confirmation" },
        { "POST", "/orders", new { symbol = "SOL-USDT", side = "buy", type = "limit", quantity = "1", price = "140", triggerConfirmation = "PT2S" }, HttpStatusCode.BadRequest, "invalid_trigger_confirmation" },
        { "POST", "/orders", new { symbol = "SOL-USDT", side = "sell", type = "stop", quantity = "1", triggerPrice = "140", fallback = new { after = "PT5S", action = "market" } }, HttpStatusCode.BadRequest, "invalid_fallback" },
        { "POST", "/orders", new { symbol = "SOL-USDT", side = "sell", type = "stopLimit", quantity = "1", triggerPrice = "140", price = "139", fallback = new { after = "PT5S", action = "sometimes" } }, HttpStatusCode.BadRequest, "invalid_fallback" },
        { "POST", "/orders", new { symbol = "SOL-USDT", side = "sell", type = "stopLimit", quantity = "1", triggerPrice = "140", price = "139", fallback = new { after = "5s", action = "cancel" } }, HttpStatusCode.BadRequest, "invalid_fallback" },
        { "POST", "/orders", new { symbol = "SOL-USDT", side = "sell", type = "stopLimit", quantity = "1", triggerPrice = "140", price = "139", fallback = new { action = "cancel" } }, HttpStatusCode.BadRequest, "invalid_fallback" },
        { "POST", "/orders", new { symbol = "SOL-USDT", side = "sell", type = "stopLimit", quantity = "1", triggerPrice = "140", price = "139", fallback = new { worstPrice = "139.5", action = "cancel" } }, HttpStatusCode.BadRequest, "invalid_fallback" },
        { "POST", "/orders", new { symbol = "SOL-USDT", side = "buy", type = "limit", quantity = "1", price = "165.01" }, HttpStatusCode.UnprocessableEntity, "price_out_of_band" },
        { "POST", "/orders", new { symbol = "SOL-USDT", side = "sell", type = "stopLimit", quantity = "1", triggerPrice = "140", price = "125" }, HttpStatusCode.UnprocessableEntity, "price_out_of_band" },
        { "POST", "/cancel-all-after", new { }, HttpStatusCode.BadRequest, "invalid_timeout_seconds" },
        { "POST", "/cancel-all-after", new { timeoutSeconds = -1 }, HttpStatusCode.BadRequest, "invalid_timeout_seconds" },
        { "POST", "/cancel-all-after", new { timeoutSeconds = 86_401 }, HttpStatusCode.BadRequest, "invalid_timeout_seconds" },
        { "POST", "/cancel-all-after", new { timeoutSeconds = "ten" }, HttpStatusCode.BadRequest, "invalid_timeout_seconds" },
        { "POST", "/cancel-all-after", new { timeoutSeconds = 1.5 }, HttpStatusCode.BadRequest, "invalid_timeout_seconds" },
        { "PUT", "/buckets/{bucket}/daily-loss-limit", new { }, HttpStatusCode.BadRequest, "invalid_daily_loss_limit" },
        { "PUT", "/buckets/{bucket}/daily-loss-limit", new { dailyLossLimit = "0" }, HttpStatusCode.BadRequest, "invalid_daily_loss_limit" },
        { "PUT", "/buckets/{bucket}/daily-loss-limit", new { dailyLossLimit = "-10" }, HttpStatusCode.BadRequest, "invalid_daily_loss_limit" },
        { "PUT", "/buckets/{bucket}/daily-loss-limit", new { dailyLossLimit = "lots" }, HttpStatusCode.BadRequest, "invalid_daily_loss_limit" },
        { "PUT", "/buckets/{bucket}/daily-loss-limit", new { dailyLossLimit = true }, HttpStatusCode.BadRequest, "invalid_daily_loss_limit" },
        { "PUT", "/buckets/nope/daily-loss-limit", new { dailyLossLimit = "10" }, HttpStatusCode.NotFound, "not_found" },
        { "POST", "/buckets/nope/daily-loss-limit/release", new { }, HttpStatusCode.NotFound, "not_found" },
        { "POST", "/buckets", new { name = "capped", allocation = "100", dailyLossLimit = "0" }, HttpStatusCode.BadRequest, "invalid_daily_loss_limit" },
        { "POST", "/kill-switch", new { bucketId = "nope" }, HttpStatusCode.NotFound, "not_found" },
        { "POST", "/kill-switch", new { bucketId = 7 }, HttpStatusCode.BadRequest, "invalid_bucket_id" },
        { "DELETE", "/kill-switch?bucketId=nope", new { }, HttpStatusCode.NotFound, "not_found" },
        { "DELETE", "/kill-switch?bucketId={bucket}", new { bucketId = "other" }, HttpStatusCode.BadRequest, "invalid_bucket_id" },
    };

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public async Task RiskInput_Invalid_StableCodeAndNothingChanges(string method, string path, object body, HttpStatusCode status, string code)
    {
        var t = await app.CreateTraderAsync();
        await PriceAsync(t, "SOL-USDT", "150");
        await PlaceOkAsync(t, new { symbol = "SOL-USDT", side = "buy", type = "market", quantity = "1" });
        await PlaceOkAsync(t, new { symbol = "SOL-USDT", side = "buy", type = "limit", quantity = "1", price = "145" });
        (await app.PostAsync($"{t.Path}/cancel-all-after", new { timeoutSeconds = 600 }, t.ApiKey)).Status(HttpStatusCode.OK);
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);
        var deadMan = (await app.GetAsync($"{t.Path}/cancel-all-after", t.ApiKey)).Status(HttpStatusCode.OK).GetRawText();

        var answer = await app.SendAsync(new HttpMethod(method), t.Path + path.Replace("{bucket}", t.BucketId, StringComparison.Ordinal), body, t.ApiKey);

        answer.Problem(status, code);
        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
        Assert.Equal(deadMan, (await app.GetAsync($"{t.Path}/cancel-all-after", t.ApiKey)).Status(HttpStatusCode.OK).GetRawText());
    }

    [Fact]
    public async Task RiskEndpoints_AnotherAccountsKey_Return404AndChangeNothing()
    {
        var owner = await app.CreateTraderAsync("owner");
        var other = await app.CreateTraderAsync("other");
        var before = await app.SnapshotAsync(owner.AccountId, owner.ApiKey);

        (await app.PostAsync($"{owner.Path}/kill-switch", null, other.ApiKey)).Problem(HttpStatusCode.NotFound, "not_found");
        (await app.DeleteAsync($"{owner.Path}/kill-switch", other.ApiKey)).Problem(HttpStatusCode.NotFound, "not_found");
        (await app.PostAsync($"{owner.Path}/cancel-all-after", new { timeoutSeconds = 5 }, other.ApiKey)).Problem(HttpStatusCode.NotFound, "not_found");
        (await app.PutAsync($"{owner.Path}/buckets/{owner.BucketId}/daily-loss-limit", new { dailyLossLimit = "5" }, other.ApiKey)).Problem(HttpStatusCode.NotFound, "not_found");
        (await app.PostAsync($"{owner.Path}/kill-switch", null, null)).Problem(HttpStatusCode.Unauthorized, "unauthorized");

        Assert.Equal(before, await app.SnapshotAsync(owner.AccountId, owner.ApiKey));
        Assert.False((await app.GetAsync($"{owner.Path}/cancel-all-after", owner.ApiKey)).Status(HttpStatusCode.OK).GetProperty("armed").GetBoolean());
    }

    [Fact]
    public async Task OpenApi_Document_DescribesTheRiskEndpointsAndFields()
    {
        var doc = (await app.GetAsync("/openapi/v1.json", null)).Status(HttpStatusCode.OK);
        var paths = doc.GetProperty("paths");
        foreach (var (path, method) in new[]
                 {
                     ("/v1/accounts/{accountId}/kill-switch", "post"),
                     ("/v1/accounts/{accountId}/kill-switch", "delete"),
                     ("/v1/accounts/{accountId}/cancel-all-after", "post"),
                     ("/v1/accounts/{accountId}/cancel-all-after", "get"),
                     ("/v1/accounts/{accountId}/buckets/{bucketId}/daily-loss-limit", "put"),
                     ("/v1/accounts/{accountId}/buckets/{bucketId}/daily-loss-limit/release", "post"),
                     ("/v1/symbols/{symbol}/status", "get"),
                     ("/v1/operator/symbols/{symbol}/halt", "post"),
                     ("/v1/operator/symbols/{symbol}/resume", "post"),
                 })
        {
            Assert.True(paths.TryGetProperty(path, out var item), $"{path} is missing from the OpenAPI document");
            Assert.True(item.TryGetProperty(method, out _), $"{method} {path} is missing from the OpenAPI document");
        }

        var schemas = doc.GetProperty("components").GetProperty("schemas");
        string[] Properties(string schema) => schemas.GetProperty(schema).GetProperty("properties").EnumerateObject().Select(p => p.Name).ToArray();
        string[] Required(string schema) => schemas.GetProperty(schema).TryGetProperty("required", out var r) ? r.Items().Select(x => x.GetString() ?? "").ToArray() : [];
        Assert.Contains("triggerConfirmation", Properties("OrderRequestBody"));
        Assert.Contains("fallback", Properties("OrderRequestBody"));
        Assert.Contains("confirmingUntil", Properties("OrderResponse"));
        Assert.Contains("dailyLossLimit", Properties("CreateBucketRequest"));
        Assert.Contains("lockReason", Properties("BucketResponse"));
        Assert.Contains("killSwitch", Properties("AccountResponse"));
        Assert.Equal(["after", "worstPrice", "action"], Properties("FallbackBody"));
        Assert.Empty(Required("FallbackBody"));
        Assert.Empty(Required("KillSwitchRequest"));
        Assert.Empty(Required("HaltRequest"));
        Assert.Contains("bucketId", paths.GetProperty("/v1/accounts/{accountId}/kill-switch").GetProperty("delete").GetProperty("parameters").Items().Select(p => p.Str("name")));
        var limit = schemas.GetProperty("DailyLossLimitBody").GetProperty("properties").GetProperty("dailyLossLimit").GetProperty("type");
        Assert.Contains("string", limit.ValueKind == JsonValueKind.Array ? limit.Items().Select(t => t.GetString()) : [limit.GetString()]);
    }

    [Fact]
    public async Task RiskPosts_SameIdempotencyKey_AnswerTheFirstResponseAndChangeNothing()
    {
        var t = await app.CreateTraderAsync();
        var key = new Dictionary<string, string> { ["Idempotency-Key"] = "dms-1" };
        var first = (await app.PostAsync($"{t.Path}/cancel-all-after", new { timeoutSeconds = 30 }, t.ApiKey, key)).Status(HttpStatusCode.OK);
        app.Clock.Advance(TimeSpan.FromSeconds(5));

        // A repeat does not move the deadline: it is the same request, answered as before.
        var repeat = (await app.PostAsync($"{t.Path}/cancel-all-after", new { timeoutSeconds = 30 }, t.ApiKey, key)).Status(HttpStatusCode.OK);
        (await app.PostAsync($"{t.Path}/cancel-all-after", new { timeoutSeconds = 60 }, t.ApiKey, key)).Problem(HttpStatusCode.Conflict, "duplicate_client_order_id");

        Assert.Equal(first.GetRawText(), repeat.GetRawText());
        Assert.Equal(first.GetProperty("deadline").GetDateTimeOffset(),
            (await app.GetAsync($"{t.Path}/cancel-all-after", t.ApiKey)).Status(HttpStatusCode.OK).GetProperty("deadline").GetDateTimeOffset());

        var killKey = new Dictionary<string, string> { ["Idempotency-Key"] = "kill-1" };
        var killed = (await app.PostAsync($"{t.Path}/kill-switch", new { bucketId = t.BucketId }, t.ApiKey, killKey)).Status(HttpStatusCode.OK);
        var again = (await app.PostAsync($"{t.Path}/kill-switch", new { bucketId = t.BucketId }, t.ApiKey, killKey)).Status(HttpStatusCode.OK);
        Assert.Equal(killed.GetRawText(), again.GetRawText());
        var engaged = (await app.GetAsync($"{t.Path}/events", t.ApiKey)).Status(HttpStatusCode.OK).Items().Count(e => e.Str("type") == "killSwitchEngaged");
        Assert.Equal(1, engaged);
    }
}
