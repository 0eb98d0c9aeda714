using System.Net;
using System.Text.Json;

namespace Engine.Tests.Api;

/// <summary>
/// Copy trading through the real HTTP pipeline. A leader's order is answered once its fill (and the
/// signal journaled with it) is durable, and by then the signal's deliveries are already queued on the
/// follower shards: a read of the follower that follows finds its outcome, with no waiting.
/// </summary>
public sealed class CopyApiTests(EngineApp app) : IClassFixture<EngineApp>
{
    private const string Btc = "BTC-USDT";

    private async Task<string> PlaceOkAsync(Trader t, object body) => (await app.PostAsync($"{t.Path}/orders", body, t.ApiKey)).Status(HttpStatusCode.Created).Str("orderId");

    private Task<string> BuyAsync(Trader t, string quantity, string symbol = Btc) =>
        PlaceOkAsync(t, new { symbol, side = "buy", type = "market", quantity });

    private async Task<string> PublishAsync(Trader leader, string name = "trend") =>
        (await app.PostAsync("/v1/strategies", new { accountId = leader.AccountId, bucketId = leader.BucketId, name }, leader.ApiKey))
        .Status(HttpStatusCode.Created).Str("strategyId");

    private async Task<JsonElement> SubscribeAsync(Trader follower, string strategy, object settings) =>
        (await app.PostAsync($"/v1/strategies/{strategy}/subscriptions", settings, follower.ApiKey)).Status(HttpStatusCode.Created);

    private static object Ratio(Trader follower, string ratio, string allocation = "5000", string onInsufficientMargin = "scaleDown") =>
        new { accountId = follower.AccountId, allocation, sizing = new { mode = "fixedRatio", ratio }, onInsufficientMargin };

    private async Task<JsonElement[]> OutcomesAsync(Trader follower, string subscription) =>
        (await app.GetAsync($"{follower.Path}/subscriptions/{subscription}/outcomes", follower.ApiKey)).Status(HttpStatusCode.OK).Items();

    private async Task<JsonElement> BucketAsync(Trader t, string bucket) => (await app.GetAsync($"{t.Path}/buckets/{bucket}", t.ApiKey)).Status(HttpStatusCode.OK);

    private static decimal Held(JsonElement bucket, string symbol = Btc) =>
        bucket.Items("positions").Where(p => p.Str("symbol") == symbol).Select(p => p.Dec("quantity") * (p.Str("side") == "short" ? -1m : 1m)).SingleOrDefault();

    private async Task<(Trader Leader, Trader Follower, string Strategy)> SetupAsync(string price = "50000", string symbol = Btc)
    {
        var leader = await app.CreateTraderAsync("leader", wallet: "20000", bucket: "10000");
        var follower = await app.CreateTraderAsync("follower", wallet: "20000", bucket: "0");
        await app.SetPriceAsync(symbol, price);
        return (leader, follower, await PublishAsync(leader));
    }

    [Fact]
    public async Task Subscribe_LeaderBuys_FollowerCopiesIntoCopyBucket()
    {
        var (leader, follower, strategy) = await SetupAsync();
        var sub = await SubscribeAsync(follower, strategy, Ratio(follower, "0.5"));
        Assert.Equal(("active", strategy, "fixedRatio"), (sub.Str("status"), sub.Str("strategyId"), sub.GetProperty("sizing").Str("mode")));
        var bucket = sub.Str("bucketId");
        var account = (await app.GetAsync(follower.Path, follower.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal(15_000m, account.Dec("walletBalance"));
        Assert.Equal(("copy", 5_000m), ((await BucketAsync(follower, bucket)).Str("kind"), (await BucketAsync(follower, bucket)).Dec("balance")));

        await BuyAsync(leader, "0.1");

        var outcome = Assert.Single(await OutcomesAsync(follower, sub.Str("subscriptionId")));
        Assert.Equal(($"{strategy}-g1", "fill", "copied", 0.1m, 0.05m), (outcome.Str("signalId"), outcome.Str("signal"), outcome.Str("outcome"), outcome.Dec("leaderQuantity"), outcome.Dec("quantity")));
        var order = (await app.GetAsync($"{follower.Path}/orders/{outcome.Str("orderId")}", follower.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal(("filled", bucket), (order.Str("status"), order.Str("bucketId")));
        Assert.Equal(0.05m, Held(await BucketAsync(follower, bucket)));

        var view = (await app.GetAsync($"/v1/strategies/{strategy}", follower.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal((leader.AccountId, 1, 5_000m, "active"), (view.Str("leaderAccountId"), view.GetProperty("followers").GetInt32(), view.Dec("allocated"), view.Str("status")));
        Assert.Contains((await app.GetAsync("/v1/strategies", follower.ApiKey)).Status(HttpStatusCode.OK).Items(), s => s.Str("strategyId") == strategy);
        var events = (await app.GetAsync($"{follower.Path}/events?after=0", follower.ApiKey)).Status(HttpStatusCode.OK).Items();
        Assert.Contains(events, e => e.GetRawText().Contains("\"copyOutcomeRecorded\"", StringComparison.Ordinal));
        (await app.DeleteAsync($"{follower.Path}/subscriptions/{sub.Str("subscriptionId")}?closePositions=yes", follower.ApiKey))
            .Problem(HttpStatusCode.BadRequest, "invalid_close_positions");
    }

    [Fact]
    public async Task TwoLeaders_OneLiquidated_OtherLeadersNextSignalCopiedInFull()
    {
        var a = await app.CreateTraderAsync("leader-a", wallet: "20000", bucket: "10000");
        var b = await app.CreateTraderAsync("leader-b", wallet: "20000", bucket: "10000");
        var follower = await app.CreateTraderAsync("follower", wallet: "20000", bucket: "0");
        await app.SetPriceAsync("SOL-USDT", "100");
        (await app.PutAsync($"{a.Path}/buckets/{a.BucketId}/leverage", new { symbol = "SOL-USDT", leverage = 50 }, a.ApiKey)).Status(HttpStatusCode.OK);
        var subA = await SubscribeAsync(follower, await PublishAsync(a, "hot"), Ratio(follower, "0.1", allocation: "1000"));
        var subB = await SubscribeAsync(follower, await PublishAsync(b, "calm"), Ratio(follower, "0.1", allocation: "1000"));

        await BuyAsync(a, "100", "SOL-USDT");
        Assert.Equal(10m, Held(await BucketAsync(follower, subA.Str("bucketId")), "SOL-USDT"));

        // A 3% fall liquidates 50x longs: A's bucket and the follower's copy of it.
        await app.SetPriceAsync("SOL-USDT", "97");
        (await app.GetAsync(a.Path, a.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal(0m, Held(await BucketAsync(follower, subA.Str("bucketId")), "SOL-USDT"));
        Assert.Equal(0m, Held(await BucketAsync(a, a.BucketId), "SOL-USDT"));
        var wallet = (await app.GetAsync(follower.Path, follower.ApiKey)).Status(HttpStatusCode.OK).Dec("walletBalance");

        await BuyAsync(b, "100", "SOL-USDT");

        var copied = (await OutcomesAsync(follower, subB.Str("subscriptionId"))).Last();
        Assert.Equal(("copied", 10m), (copied.Str("outcome"), copied.Dec("quantity")));
        Assert.Equal(10m, Held(await BucketAsync(follower, subB.Str("bucketId")), "SOL-USDT"));
        Assert.Equal(wallet, (await app.GetAsync(follower.Path, follower.ApiKey)).Status(HttpStatusCode.OK).Dec("walletBalance"));
    }

    [Fact]
    public async Task LeaderClosesFortyPercent_FollowerAtThirtyPercentClosesFortyPercentOfItsOwn()
    {
        var (leader, follower, strategy) = await SetupAsync();
        var sub = await SubscribeAsync(follower, strategy, Ratio(follower, "0.3"));
        await BuyAsync(leader, "1");
        Assert.Equal(0.3m, Held(await BucketAsync(follower, sub.Str("bucketId"))));

        await PlaceOkAsync(leader, new { symbol = Btc, side = "sell", type = "market", quantity = "0.4" });

        Assert.Equal(0.18m, Held(await BucketAsync(follower, sub.Str("bucketId"))));
        Assert.Equal(0.12m, (await OutcomesAsync(follower, sub.Str("subscriptionId"))).Last().Dec("quantity"));
    }

    public static TheoryData<string> SkipReasons => ["symbol_not_allowed", "bucket_locked", "slippage", "below_minimum", "insufficient_margin"];

    [Theory]
    [MemberData(nameof(SkipReasons))]
    public async Task LeaderFill_SkipCondition_SkippedWithReasonAndFollowerUnchanged(string reason)
    {
        var (leader, follower, strategy) = await SetupAsync();
        object settings = reason switch
        {
            "symbol_not_allowed" => new { accountId = follower.AccountId, allocation = "5000", sizing = new { mode = "fixedRatio", ratio = "1" }, symbols = new[] { "ETH-USDT" }, onInsufficientMargin = "skip" },
            "slippage" => new { accountId = follower.AccountId, allocation = "5000", sizing = new { mode = "fixedRatio", ratio = "1" }, slippageLimit = "0.01", onInsufficientMargin = "skip" },
            "below_minimum" => Ratio(follower, "0.001"),
            "insufficient_margin" => Ratio(follower, "1", allocation: "100", onInsufficientMargin: "skip"),
            _ => Ratio(follower, "1"),
        };
        var sub = await SubscribeAsync(follower, strategy, settings);
        if (reason == "bucket_locked")
            (await app.PostAsync($"{follower.Path}/kill-switch", new { bucketId = sub.Str("bucketId") }, follower.ApiKey)).Status(HttpStatusCode.OK);

        var before = await app.SnapshotAsync(follower.AccountId, follower.ApiKey);
        if (reason == "slippage")
        {
            // The leader's limit fills at its own price, 50,000, when the index falls through it to 49,000: 2% away.
            await app.SetPriceAsync(Btc, "50100");
            await PlaceOkAsync(leader, new { symbol = Btc, side = "buy", type = "limit", quantity = "0.1", price = "50000" });
            await app.SetPriceAsync(Btc, "49000");
            // A read on the leader's shard: it has taken the price, and its fill's signal is on its way.
            (await app.GetAsync(leader.Path, leader.ApiKey)).Status(HttpStatusCode.OK);
        }
        else
        {
            await BuyAsync(leader, "0.1");
        }

        var outcome = Assert.Single(await OutcomesAsync(follower, sub.Str("subscriptionId")));
        Assert.Equal(("skipped", reason, 0m), (outcome.Str("outcome"), outcome.Str("reason"), outcome.Dec("quantity")));
        Assert.Null(outcome.OptStr("orderId"));
        Assert.Equal(before, await app.SnapshotAsync(follower.AccountId, follower.ApiKey));
    }

    [Fact]
    public async Task LeaderReduces_FollowerHoldsNothing_SkippedNoPositionAndFollowerUnchanged()
    {
        var (leader, follower, strategy) = await SetupAsync();
        var sub = await SubscribeAsync(follower, strategy, Ratio(follower, "0.5"));
        await BuyAsync(leader, "0.2");
        // The follower closes its copy by hand: the leader's next reduction finds nothing to reduce.
        (await app.PostAsync($"{follower.Path}/buckets/{sub.Str("bucketId")}/positions/{Btc}/close", null, follower.ApiKey)).Status(HttpStatusCode.Created);
        var before = await app.SnapshotAsync(follower.AccountId, follower.ApiKey);

        await PlaceOkAsync(leader, new { symbol = Btc, side = "sell", type = "market", quantity = "0.1" });

        var outcome = (await OutcomesAsync(follower, sub.Str("subscriptionId"))).Last();
        Assert.Equal(("skipped", "no_position", $"{strategy}-g2"), (outcome.Str("outcome"), outcome.Str("reason"), outcome.Str("signalId")));
        Assert.Equal(before, await app.SnapshotAsync(follower.AccountId, follower.ApiKey));
    }

    [Fact]
    public async Task LeaderScalesIn_FollowerAtMaxPositionNotional_SkippedAndFollowerUnchanged()
    {
        var (leader, follower, strategy) = await SetupAsync();
        var sub = await SubscribeAsync(follower, strategy,
            new { accountId = follower.AccountId, allocation = "5000", sizing = new { mode = "fixedRatio", ratio = "1" }, maxPositionNotional = "1000", onInsufficientMargin = "skip" });
        await BuyAsync(leader, "0.1");
        var before = await app.SnapshotAsync(follower.AccountId, follower.ApiKey);

        await BuyAsync(leader, "0.1");

        var outcome = (await OutcomesAsync(follower, sub.Str("subscriptionId"))).Last();
        Assert.Equal(("skipped", "max_position_notional"), (outcome.Str("outcome"), outcome.Str("reason")));
        Assert.Equal(before, await app.SnapshotAsync(follower.AccountId, follower.ApiKey));
    }

    [Fact]
    public async Task LeaderFill_AboveMaxPositionNotional_ScaledDown()
    {
        var (leader, follower, strategy) = await SetupAsync();
        var sub = await SubscribeAsync(follower, strategy,
            new { accountId = follower.AccountId, allocation = "5000", sizing = new { mode = "fixedNotional", notional = "2000" }, maxPositionNotional = "1000", onInsufficientMargin = "skip" });
        await BuyAsync(leader, "0.1");
        var outcome = Assert.Single(await OutcomesAsync(follower, sub.Str("subscriptionId")));
        Assert.Equal(("scaledDown", "max_position_notional", 0.02m), (outcome.Str("outcome"), outcome.Str("reason"), outcome.Dec("quantity")));
    }

    public static TheoryData<string, string> InvalidSubscriptions => new()
    {
        { """{"allocation":"100","sizing":{"mode":"equityRatio"},"onInsufficientMargin":"skip"}""", "invalid_account_id" },
        { """{"accountId":"$A","sizing":{"mode":"equityRatio"},"onInsufficientMargin":"skip"}""", "invalid_allocation" },
        { """{"accountId":"$A","allocation":"-5","sizing":{"mode":"equityRatio"},"onInsufficientMargin":"skip"}""", "invalid_allocation" },
        { """{"accountId":"$A","allocation":"abc","sizing":{"mode":"equityRatio"},"onInsufficientMargin":"skip"}""", "invalid_allocation" },
        { """{"accountId":"$A","allocation":"100","onInsufficientMargin":"skip"}""", "invalid_sizing" },
        { """{"accountId":"$A","allocation":"100","sizing":{"mode":"double"},"onInsufficientMargin":"skip"}""", "invalid_sizing" },
        { """{"accountId":"$A","allocation":"100","sizing":{"mode":"fixedRatio"},"onInsufficientMargin":"skip"}""", "invalid_ratio" },
        { """{"accountId":"$A","allocation":"100","sizing":{"mode":"equityRatio","ratio":"2"},"onInsufficientMargin":"skip"}""", "invalid_ratio" },
        { """{"accountId":"$A","allocation":"100","sizing":{"mode":"fixedNotional"},"onInsufficientMargin":"skip"}""", "invalid_notional" },
        { """{"accountId":"$A","allocation":"100","sizing":{"mode":"fixedNotional","notional":"0"},"onInsufficientMargin":"skip"}""", "invalid_notional" },
        { """{"accountId":"$A","allocation":"100","sizing":{"mode":"equityRatio"},"maxLeverage":0,"onInsufficientMargin":"skip"}""", "invalid_max_leverage" },
        { """{"accountId":"$A","allocation":"100","sizing":{"mode":"equityRatio"},"maxPositionNotional":"0","onInsufficientMargin":"skip"}""", "invalid_max_position_notional" },
        { """{"accountId":"$A","allocation":"100","sizing":{"mode":"equityRatio"},"slippageLimit":"1.5","onInsufficientMargin":"skip"}""", "invalid_slippage_limit" },
        { """{"accountId":"$A","allocation":"100","sizing":{"mode":"equityRatio"},"symbols":[],"onInsufficientMargin":"skip"}""", "invalid_symbols" },
        { """{"accountId":"$A","allocation":"100","sizing":{"mode":"equityRatio"},"symbols":["NOPE-USDT"],"onInsufficientMargin":"skip"}""", "unknown_symbol" },
        { """{"accountId":"$A","allocation":"100","sizing":{"mode":"equityRatio"}}""", "invalid_on_insufficient_margin" },
        { """{"accountId":"$A","allocation":"100","sizing":{"mode":"equityRatio"},"onInsufficientMargin":"panic"}""", "invalid_on_insufficient_margin" },
        { """{"accountId":"$A","allocation":"100","sizing":{"mode":"equityRatio"},"onInsufficientMargin":"skip","clientOrderId":"bad id!"}""", "invalid_client_order_id" },
        { """{"accountId":"$A","allocation":"100","sizing":{"mode":"equityRatio"},"onInsufficientMargin":"skip",}""", "malformed_json" },
    };

    [Theory]
    [MemberData(nameof(InvalidSubscriptions))]
    public async Task Subscribe_InvalidBody_400WithCodeAndNothingChanged(string body, string code)
    {
        var (_, follower, strategy) = await SetupAsync();
        var before = await app.SnapshotAsync(follower.AccountId, follower.ApiKey);
        var answer = await app.SendAsync(HttpMethod.Post, $"/v1/strategies/{strategy}/subscriptions",
            body.Replace("$A", follower.AccountId, StringComparison.Ordinal), follower.ApiKey);
        answer.Problem(HttpStatusCode.BadRequest, code);
        Assert.Equal(before, await app.SnapshotAsync(follower.AccountId, follower.ApiKey));
        Assert.Empty((await app.GetAsync($"{follower.Path}/subscriptions", follower.ApiKey)).Status(HttpStatusCode.OK).Items());
    }

    [Fact]
    public async Task Subscribe_BusinessRejections_422Or404AndNothingChanged()
    {
        var (leader, follower, strategy) = await SetupAsync();
        var before = await app.SnapshotAsync(follower.AccountId, follower.ApiKey);
        (await app.PostAsync($"/v1/strategies/{strategy}/subscriptions", Ratio(follower, "1", allocation: "50000"), follower.ApiKey))
            .Problem(HttpStatusCode.UnprocessableEntity, "insufficient_balance");
        (await app.PostAsync($"/v1/strategies/{leader.AccountId}-s99/subscriptions", Ratio(follower, "1"), follower.ApiKey))
            .Problem(HttpStatusCode.NotFound, "not_found");
        (await app.PostAsync($"/v1/strategies/{strategy}/subscriptions", Ratio(leader, "1"), leader.ApiKey))
            .Problem(HttpStatusCode.UnprocessableEntity, "self_subscription");
        // Another account's id in the body: 404, as for any other account's resource.
        (await app.PostAsync($"/v1/strategies/{strategy}/subscriptions", Ratio(leader, "1"), follower.ApiKey))
            .Problem(HttpStatusCode.NotFound, "not_found");
        (await app.DeleteAsync($"/v1/strategies/{strategy}?closePositions=false", leader.ApiKey)).Status(HttpStatusCode.OK);
        (await app.PostAsync($"/v1/strategies/{strategy}/subscriptions", Ratio(follower, "1"), follower.ApiKey))
            .Problem(HttpStatusCode.UnprocessableEntity, "strategy_closed");
        Assert.Equal(before, await app.SnapshotAsync(follower.AccountId, follower.ApiKey));
    }

    [Fact]
    public async Task PublishStrategy_InvalidInput_400AndNothingChanged()
    {
        var leader = await app.CreateTraderAsync("leader");
        (await app.PostAsync("/v1/strategies", new { bucketId = leader.BucketId, name = "x" }, leader.ApiKey)).Problem(HttpStatusCode.BadRequest, "invalid_account_id");
        (await app.PostAsync("/v1/strategies", new { accountId = leader.AccountId, name = "x" }, leader.ApiKey)).Problem(HttpStatusCode.BadRequest, "invalid_bucket_id");
        (await app.PostAsync("/v1/strategies", new { accountId = leader.AccountId, bucketId = leader.BucketId, name = "" }, leader.ApiKey)).Problem(HttpStatusCode.BadRequest, "invalid_name");
        (await app.PostAsync("/v1/strategies", new { accountId = leader.AccountId, bucketId = leader.BucketId, name = "x", description = new string('d', 501) }, leader.ApiKey))
            .Problem(HttpStatusCode.BadRequest, "invalid_description");
        (await app.PostAsync("/v1/strategies", new { accountId = leader.AccountId, bucketId = leader.AccountId + "-b9", name = "x" }, leader.ApiKey)).Problem(HttpStatusCode.NotFound, "not_found");
        Assert.DoesNotContain((await app.GetAsync("/v1/strategies", leader.ApiKey)).Status(HttpStatusCode.OK).Items(), s => s.Str("leaderAccountId") == leader.AccountId);

        var strategy = await PublishAsync(leader);
        (await app.PostAsync("/v1/strategies", new { accountId = leader.AccountId, bucketId = leader.BucketId, name = "again" }, leader.ApiKey))
            .Problem(HttpStatusCode.UnprocessableEntity, "strategy_exists");
        (await app.DeleteAsync($"/v1/strategies/{strategy}?closePositions=maybe", leader.ApiKey)).Problem(HttpStatusCode.BadRequest, "invalid_close_positions");
        var other = await app.CreateTraderAsync("other");
        (await app.DeleteAsync($"/v1/strategies/{strategy}", other.ApiKey)).Problem(HttpStatusCode.NotFound, "not_found");
        Assert.Equal("active", (await app.GetAsync($"/v1/strategies/{strategy}", other.ApiKey)).Status(HttpStatusCode.OK).Str("status"));
    }

    [Fact]
    public async Task Subscribe_SameClientOrderIdTwice_AnswersTheFirstSubscription()
    {
        var (_, follower, strategy) = await SetupAsync();
        var body = new { accountId = follower.AccountId, allocation = "1000", sizing = new { mode = "equityRatio" }, onInsufficientMargin = "skip", clientOrderId = "sub-1" };
        var first = await SubscribeAsync(follower, strategy, body);
        var second = await SubscribeAsync(follower, strategy, body);
        Assert.Equal(first.Str("subscriptionId"), second.Str("subscriptionId"));
        Assert.Single((await app.GetAsync($"{follower.Path}/subscriptions", follower.ApiKey)).Status(HttpStatusCode.OK).Items());
        (await app.PostAsync($"/v1/strategies/{strategy}/subscriptions", body with { allocation = "2000" }, follower.ApiKey))
            .Problem(HttpStatusCode.Conflict, "duplicate_client_order_id");
    }

    [Fact]
    public async Task Subscription_OtherAccount_404()
    {
        var (_, follower, strategy) = await SetupAsync();
        var sub = await SubscribeAsync(follower, strategy, Ratio(follower, "1"));
        var other = await app.CreateTraderAsync("other");
        (await app.GetAsync($"{follower.Path}/subscriptions/{sub.Str("subscriptionId")}", other.ApiKey)).Problem(HttpStatusCode.NotFound, "not_found");
        (await app.GetAsync($"{other.Path}/subscriptions/{sub.Str("subscriptionId")}", other.ApiKey)).Problem(HttpStatusCode.NotFound, "not_found");
        (await app.DeleteAsync($"{other.Path}/subscriptions/{sub.Str("subscriptionId")}", other.ApiKey)).Problem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Unsubscribe_ClosePositions_FlattensAndReturnsBalance()
    {
        var (leader, follower, strategy) = await SetupAsync();
        var sub = await SubscribeAsync(follower, strategy, Ratio(follower, "0.5"));
        await BuyAsync(leader, "0.2");

        var ended = (await app.DeleteAsync($"{follower.Path}/subscriptions/{sub.Str("subscriptionId")}?closePositions=true", follower.ApiKey)).Status(HttpStatusCode.OK);

        Assert.Equal(("ended", "unsubscribed", true), (ended.Str("status"), ended.Str("endReason"), ended.GetProperty("closePositions").GetBoolean()));
        var bucket = await BucketAsync(follower, sub.Str("bucketId"));
        Assert.Equal((0m, 0), (bucket.Dec("balance"), bucket.Items("positions").Length));
        // Two taker fees of 2.5 (0.1 BTC at 50,000) are all it cost.
        Assert.Equal(19_995m, (await app.GetAsync(follower.Path, follower.ApiKey)).Status(HttpStatusCode.OK).Dec("walletBalance"));
        Assert.Equal(0, (await app.GetAsync($"/v1/strategies/{strategy}", leader.ApiKey)).Status(HttpStatusCode.OK).GetProperty("followers").GetInt32());
        (await app.DeleteAsync($"{follower.Path}/subscriptions/{sub.Str("subscriptionId")}", follower.ApiKey)).Problem(HttpStatusCode.UnprocessableEntity, "subscription_ended");

        await BuyAsync(leader, "0.2");
        Assert.Single(await OutcomesAsync(follower, sub.Str("subscriptionId")));
    }

    [Fact]
    public async Task Unsubscribe_KeepPositions_BucketStaysAsManual()
    {
        var (leader, follower, strategy) = await SetupAsync();
        var sub = await SubscribeAsync(follower, strategy, Ratio(follower, "0.5"));
        await BuyAsync(leader, "0.2");

        (await app.DeleteAsync($"{follower.Path}/subscriptions/{sub.Str("subscriptionId")}?closePositions=false", follower.ApiKey)).Status(HttpStatusCode.OK);

        var bucket = await BucketAsync(follower, sub.Str("bucketId"));
        Assert.Equal(("manual", 0.1m), (bucket.Str("kind"), Held(bucket)));
        await PlaceOkAsync(follower, new { bucketId = sub.Str("bucketId"), symbol = Btc, side = "sell", type = "market", quantity = "0.1" });
    }

    [Fact]
    public async Task CloseStrategy_ClosePositions_EndsEverySubscriptionTheSameWay()
    {
        var (leader, follower, strategy) = await SetupAsync();
        var second = await app.CreateTraderAsync("second", wallet: "20000", bucket: "0");
        var sub1 = await SubscribeAsync(follower, strategy, Ratio(follower, "0.5"));
        var sub2 = await SubscribeAsync(second, strategy, Ratio(second, "0.5"));
        await BuyAsync(leader, "0.2");

        var closed = (await app.DeleteAsync($"/v1/strategies/{strategy}?closePositions=true", leader.ApiKey)).Status(HttpStatusCode.OK);

        Assert.Equal("closed", closed.Str("status"));
        foreach (var (t, sub) in new[] { (follower, sub1), (second, sub2) })
        {
            var view = (await app.GetAsync($"{t.Path}/subscriptions/{sub.Str("subscriptionId")}", t.ApiKey)).Status(HttpStatusCode.OK);
            Assert.Equal(("ended", "strategy_closed"), (view.Str("status"), view.Str("endReason")));
            Assert.Equal(0m, (await BucketAsync(t, sub.Str("bucketId"))).Dec("balance"));
        }

        Assert.Equal(0, (await app.GetAsync($"/v1/strategies/{strategy}", leader.ApiKey)).Status(HttpStatusCode.OK).GetProperty("followers").GetInt32());
        // The leader's own position is the leader's: closing the strategy does not touch it.
        Assert.Equal(0.2m, Held(await BucketAsync(leader, leader.BucketId)));
    }

    [Fact]
    public async Task LeaderTakeProfit_PlacedAmendedCancelled_FollowerCopyFollows()
    {
        var (leader, follower, strategy) = await SetupAsync();
        var sub = await SubscribeAsync(follower, strategy,
            new { accountId = follower.AccountId, allocation = "5000", sizing = new { mode = "fixedRatio", ratio = "0.5" }, copyTakeProfitStopLoss = true, onInsufficientMargin = "skip" });
        var id = sub.Str("subscriptionId");
        await BuyAsync(leader, "0.2");
        var tp = await PlaceOkAsync(leader, new { symbol = Btc, side = "sell", type = "takeProfit", quantity = "0.2", triggerPrice = "55000", reduceOnly = true });

        var placed = (await OutcomesAsync(follower, id)).Last();
        Assert.Equal(("protectionPlaced", "copied"), (placed.Str("signal"), placed.Str("outcome")));
        var copyPath = $"{follower.Path}/orders/{placed.Str("orderId")}";
        var copy = (await app.GetAsync(copyPath, follower.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal(("takeProfit", "untriggered", 0.1m, 55_000m), (copy.Str("type"), copy.Str("status"), copy.Dec("quantity"), copy.Dec("triggerPrice")));

        (await app.PatchAsync($"{leader.Path}/orders/{tp}", new { triggerPrice = "56000" }, leader.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal(56_000m, (await app.GetAsync(copyPath, follower.ApiKey)).Status(HttpStatusCode.OK).Dec("triggerPrice"));

        (await app.DeleteAsync($"{leader.Path}/orders/{tp}", leader.ApiKey)).Status(HttpStatusCode.OK);
        var cancelled = (await app.GetAsync(copyPath, follower.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal(("cancelled", "leader_cancelled"), (cancelled.Str("status"), cancelled.Str("reason")));
        Assert.Equal(4, (await OutcomesAsync(follower, id)).Length);
    }
}
