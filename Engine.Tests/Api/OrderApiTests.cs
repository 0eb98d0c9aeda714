using System.Net;
using System.Text.Json;

namespace Engine.Tests.Api;

/// <summary>Placing every order type and watching it rest, trigger and fill as prices move.</summary>
public sealed class OrderApiTests(EngineApp app) : IClassFixture<EngineApp>
{
    private Task<(HttpStatusCode Status, JsonElement Body)> Place(Trader t, object body) => app.PostAsync($"{t.Path}/orders", body, t.ApiKey);

    private async Task<JsonElement> Order(Trader t, string orderId) => (await app.GetAsync($"{t.Path}/orders/{orderId}", t.ApiKey)).Status(HttpStatusCode.OK);

    private async Task<JsonElement[]> Positions(Trader t) => (await app.GetAsync($"{t.Path}/positions", t.ApiKey)).Status(HttpStatusCode.OK).Items();

    [Fact]
    public async Task PlaceMarket_Buy_FillsAtIndexAndOpensLong()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");

        var order = (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.01" })).Status(HttpStatusCode.Created);

        Assert.False(string.IsNullOrEmpty(order.Str("orderId")));
        Assert.Equal(t.AccountId, order.Str("accountId"));
        Assert.Equal(t.BucketId, order.Str("bucketId"));
        Assert.Equal("BTC-USDT", order.Str("symbol"));
        Assert.Equal("buy", order.Str("side"));
        Assert.Equal("market", order.Str("type"));
        Assert.Equal("0.01", order.Str("quantity"));
        Assert.Equal("gtc", order.Str("timeInForce"));
        Assert.Equal("index", order.Str("triggerBy"));
        Assert.False(order.GetProperty("reduceOnly").GetBoolean());
        Assert.Equal("filled", order.Str("status"));
        Assert.Equal("0.01", order.Str("filledQuantity"));
        Assert.Equal("64250.5", order.Str("averageFillPrice"));
        Assert.Equal(app.Clock.GetUtcNow(), order.GetProperty("createdAt").GetDateTimeOffset());
        Assert.Equal(app.Clock.GetUtcNow(), order.GetProperty("updatedAt").GetDateTimeOffset());

        var position = Assert.Single(await Positions(t));
        Assert.Equal("long", position.Str("side"));
        Assert.Equal("0.01", position.Str("quantity"));
    }

    [Fact]
    public async Task GetPositions_OpenLong_ShowsEntryMarkMarginPnlAndLiquidationPrice()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.01" })).Status(HttpStatusCode.Created);

        var position = Assert.Single(await Positions(t));
        Assert.Equal(t.BucketId, position.Str("bucketId"));
        Assert.Equal("BTC-USDT", position.Str("symbol"));
        Assert.Equal("long", position.Str("side"));
        Assert.Equal("64250.5", position.Str("entryPrice"));
        Assert.Equal("64250.5", position.Str("markPrice"));
        Assert.Equal(10, position.GetProperty("leverage").GetInt32());
        Assert.Equal(64.2505m, position.Dec("margin"));
        Assert.Equal(0m, position.Dec("unrealizedPnl"));
        // (0.01 × 64250.5 − 64.2505) / (0.01 × (1 − 0.004)) = 58057.68…, rounded up to the tick.
        Assert.Equal("58057.7", position.Str("liquidationPrice"));

        await app.SetPriceAsync("BTC-USDT", "65250.5");
        position = Assert.Single(await Positions(t));
        Assert.Equal("65250.5", position.Str("markPrice"));
        Assert.Equal(10m, position.Dec("unrealizedPnl"));

        var bucket = (await app.GetAsync($"{t.Path}/buckets/{t.BucketId}", t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal(10m, bucket.Dec("unrealizedPnl"));
        Assert.Equal(64.2505m, bucket.Dec("usedMargin"));
        Assert.Single(bucket.Items("positions"));
    }

    [Fact]
    public async Task Position_MarkReachesLiquidationPrice_IsLiquidatedWithinItsBucket()
    {
        var t = await app.CreateTraderAsync(wallet: "10000", bucket: "1000");
        await app.SetPriceAsync("SOL-USDT", "100");
        (await Place(t, new { symbol = "SOL-USDT", side = "buy", type = "market", quantity = "1" })).Status(HttpStatusCode.Created);
        var position = Assert.Single(await Positions(t));
        Assert.Equal(90.91m, position.Dec("liquidationPrice"));

        await app.SetPriceAsync("SOL-USDT", "90.92");
        Assert.Single(await Positions(t));

        await app.SetPriceAsync("SOL-USDT", "90.9");
        Assert.Empty(await Positions(t));
        var fills = (await app.GetAsync($"{t.Path}/fills", t.ApiKey)).Status(HttpStatusCode.OK).Items();
        Assert.Equal("liquidation", fills[^1].Str("liquidity"));
        Assert.Equal(-9.1m, fills[^1].Dec("realizedPnl"));
        var account = (await app.GetAsync(t.Path, t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal("9000", account.Str("walletBalance"));
        Assert.Equal(1000m - 0.05m - 9.1m, account.Items("buckets")[0].Dec("balance"));
    }

    [Fact]
    public async Task PlaceStop_TriggerByLast_FiresOnLastWhileIndexStopWaits()
    {
        var t = await app.CreateTraderAsync();
        var ticks = new[] { new { source = "a", symbol = "BNB-USDT", price = "100" }, new { source = "b", symbol = "BNB-USDT", price = "100" } };
        (await app.PostAsync("/v1/prices", new { ticks }, EngineApp.OperatorKey)).Status(HttpStatusCode.OK);
        var byLast = (await Place(t, new { symbol = "BNB-USDT", side = "buy", type = "stop", quantity = "1", triggerPrice = "103", triggerBy = "last" }))
            .Status(HttpStatusCode.Created);
        Assert.Equal("last", byLast.Str("triggerBy"));
        var byIndex = (await Place(t, new { symbol = "BNB-USDT", side = "buy", type = "stop", quantity = "1", triggerPrice = "103" })).Status(HttpStatusCode.Created);

        // One venue prints 104: last is 104, the index (median of both venues) only 102.
        (await app.PostAsync("/v1/prices", new { ticks = new[] { new { source = "b", symbol = "BNB-USDT", price = "104" } } }, EngineApp.OperatorKey))
            .Status(HttpStatusCode.OK);
        var price = (await app.GetAsync("/v1/prices/BNB-USDT", t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal("104", price.Str("last"));
        Assert.Equal(102m, price.Dec("index"));
        Assert.False(price.GetProperty("degraded").GetBoolean());

        var fired = await Order(t, byLast.Str("orderId"));
        Assert.Equal("filled", fired.Str("status"));
        Assert.Equal(104m, fired.Dec("triggeredPrice"));
        Assert.Equal("untriggered", (await Order(t, byIndex.Str("orderId"))).Str("status"));
    }

    [Fact]
    public async Task PlaceMarket_Sell_OpensShortWithLiquidationAbove()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");

        (await Place(t, new { symbol = "BTC-USDT", side = "sell", type = "market", quantity = "0.01" })).Status(HttpStatusCode.Created);

        var position = Assert.Single(await Positions(t));
        Assert.Equal("short", position.Str("side"));
        Assert.Equal("0.01", position.Str("quantity"));
        Assert.True(position.Dec("liquidationPrice") > 64250.5m);
    }

    [Fact]
    public async Task PlaceLimitGtc_BelowIndex_RestsThenFillsAsMakerWhenIndexReachesIt()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");

        var order = (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "limit", quantity = "0.01", price = "64000" })).Status(HttpStatusCode.Created);
        Assert.Equal("open", order.Str("status"));
        Assert.Equal("64000", order.Str("price"));
        Assert.Equal("0", order.Str("filledQuantity"));
        Assert.Empty(await Positions(t));

        await app.SetPriceAsync("BTC-USDT", "64000.1");
        Assert.Equal("open", (await Order(t, order.Str("orderId"))).Str("status"));

        await app.SetPriceAsync("BTC-USDT", "63990");
        var filled = await Order(t, order.Str("orderId"));
        Assert.Equal("filled", filled.Str("status"));
        Assert.Equal(64000m, filled.Dec("averageFillPrice"));
        var fill = Assert.Single((await app.GetAsync($"{t.Path}/fills", t.ApiKey)).Status(HttpStatusCode.OK).Items());
        Assert.Equal("maker", fill.Str("liquidity"));
        Assert.Equal(0.128m, fill.Dec("fee"));
    }

    [Fact]
    public async Task PlaceLimitGtc_Marketable_FillsAtOnceAtTheBetterIndexPrice()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");

        var order = (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "limit", quantity = "0.01", price = "65000" })).Status(HttpStatusCode.Created);

        Assert.Equal("filled", order.Str("status"));
        Assert.Equal(64250.5m, order.Dec("averageFillPrice"));
    }

    [Theory]
    [InlineData("ioc", "ioc_not_filled")]
    [InlineData("fok", "fok_not_filled")]
    public async Task PlaceLimitIocOrFok_NotMarketable_ExpiresAtOnce(string timeInForce, string reason)
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");

        var order = (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "limit", quantity = "0.01", price = "64000", timeInForce })).Status(HttpStatusCode.Created);

        Assert.Equal(timeInForce, order.Str("timeInForce"));
        Assert.Equal("expired", order.Str("status"));
        Assert.Equal(reason, order.Str("reason"));
        Assert.Empty(await Positions(t));
        var open = (await app.GetAsync($"{t.Path}/orders", t.ApiKey)).Status(HttpStatusCode.OK).Items();
        Assert.Empty(open);
    }

    [Theory]
    [InlineData("ioc")]
    [InlineData("fok")]
    public async Task PlaceLimitIocOrFok_Marketable_Fills(string timeInForce)
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");

        var order = (await Place(t, new { symbol = "BTC-USDT", side = "sell", type = "limit", quantity = "0.01", price = "64000", timeInForce })).Status(HttpStatusCode.Created);

        Assert.Equal("filled", order.Str("status"));
        Assert.Equal(64250.5m, order.Dec("averageFillPrice"));
    }

    [Fact]
    public async Task PlaceLimitGtd_WithExpireAt_RestsWithItsExpiry()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        var expireAt = app.Clock.GetUtcNow().AddHours(1);

        var order = (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "limit", quantity = "0.01", price = "64000", timeInForce = "gtd", expireAt }))
            .Status(HttpStatusCode.Created);

        Assert.Equal("gtd", order.Str("timeInForce"));
        Assert.Equal("open", order.Str("status"));
        Assert.Equal(expireAt, order.GetProperty("expireAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task PlaceStop_BuyAboveIndex_WaitsThenFiresWhenPriceRisesToIt()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("SOL-USDT", "100");

        var order = (await Place(t, new { symbol = "SOL-USDT", side = "buy", type = "stop", quantity = "1", triggerPrice = "105" })).Status(HttpStatusCode.Created);
        Assert.Equal("untriggered", order.Str("status"));
        Assert.Equal("105", order.Str("triggerPrice"));
        Assert.False(order.TryGetProperty("triggeredAt", out _));

        await app.SetPriceAsync("SOL-USDT", "104.99");
        Assert.Equal("untriggered", (await Order(t, order.Str("orderId"))).Str("status"));

        await app.SetPriceAsync("SOL-USDT", "105.5");
        var fired = await Order(t, order.Str("orderId"));
        Assert.Equal("filled", fired.Str("status"));
        Assert.Equal(105.5m, fired.Dec("triggeredPrice"));
        Assert.Equal(105.5m, fired.Dec("averageFillPrice"));
        Assert.Equal(app.Clock.GetUtcNow(), fired.GetProperty("triggeredAt").GetDateTimeOffset());
        Assert.Equal("long", Assert.Single(await Positions(t)).Str("side"));
    }

    [Fact]
    public async Task PlaceStop_SellBelowIndex_FiresWhenPriceFallsToIt()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("SOL-USDT", "100");

        var order = (await Place(t, new { symbol = "SOL-USDT", side = "sell", type = "stop", quantity = "1", triggerPrice = "95" })).Status(HttpStatusCode.Created);
        await app.SetPriceAsync("SOL-USDT", "120");
        Assert.Equal("untriggered", (await Order(t, order.Str("orderId"))).Str("status"));

        await app.SetPriceAsync("SOL-USDT", "95");
        var fired = await Order(t, order.Str("orderId"));
        Assert.Equal("filled", fired.Str("status"));
        Assert.Equal(95m, fired.Dec("averageFillPrice"));
        Assert.Equal("short", Assert.Single(await Positions(t)).Str("side"));
    }

    [Fact]
    public async Task PlaceStopLimit_Triggered_RestsAtItsLimitThenFills()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("SOL-USDT", "100");

        var order = (await Place(t, new { symbol = "SOL-USDT", side = "buy", type = "stopLimit", quantity = "1", triggerPrice = "105", price = "104" }))
            .Status(HttpStatusCode.Created);
        Assert.Equal("untriggered", order.Str("status"));
        Assert.Equal("stopLimit", order.Str("type"));

        await app.SetPriceAsync("SOL-USDT", "105.2");
        var triggered = await Order(t, order.Str("orderId"));
        Assert.Equal("open", triggered.Str("status"));
        Assert.Equal(105.2m, triggered.Dec("triggeredPrice"));
        Assert.Empty(await Positions(t));

        await app.SetPriceAsync("SOL-USDT", "103.9");
        var filled = await Order(t, order.Str("orderId"));
        Assert.Equal("filled", filled.Str("status"));
        Assert.Equal(104m, filled.Dec("averageFillPrice"));
    }

    [Fact]
    public async Task PlaceTakeProfit_ReduceOnlySellAboveIndex_ClosesTheLongWhenPriceRises()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("SOL-USDT", "100");
        (await Place(t, new { symbol = "SOL-USDT", side = "buy", type = "market", quantity = "1" })).Status(HttpStatusCode.Created);

        var tp = (await Place(t, new { symbol = "SOL-USDT", side = "sell", type = "takeProfit", quantity = "1", triggerPrice = "110", reduceOnly = true }))
            .Status(HttpStatusCode.Created);
        Assert.Equal("untriggered", tp.Str("status"));
        Assert.True(tp.GetProperty("reduceOnly").GetBoolean());

        // A sell take-profit fires on a rise, not on a fall.
        await app.SetPriceAsync("SOL-USDT", "95");
        Assert.Equal("untriggered", (await Order(t, tp.Str("orderId"))).Str("status"));

        await app.SetPriceAsync("SOL-USDT", "110");
        Assert.Equal("filled", (await Order(t, tp.Str("orderId"))).Str("status"));
        Assert.Empty(await Positions(t));
        var bucket = (await app.GetAsync($"{t.Path}/buckets/{t.BucketId}", t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal(10m, bucket.Dec("realizedPnl"));
    }

    [Fact]
    public async Task PlaceTakeProfitLimit_Triggered_FillsAtLimitOrBetter()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("SOL-USDT", "100");

        var order = (await Place(t, new { symbol = "SOL-USDT", side = "sell", type = "takeProfitLimit", quantity = "1", triggerPrice = "110", price = "110" }))
            .Status(HttpStatusCode.Created);
        Assert.Equal("takeProfitLimit", order.Str("type"));
        Assert.Equal("untriggered", order.Str("status"));

        await app.SetPriceAsync("SOL-USDT", "111");
        var filled = await Order(t, order.Str("orderId"));
        Assert.Equal("filled", filled.Str("status"));
        Assert.Equal(111m, filled.Dec("averageFillPrice"));
    }

    [Fact]
    public async Task PlaceTrailingStop_CallbackRate_FiresAfterPullbackFromTheHigh()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("SOL-USDT", "100");

        var order = (await Place(t, new { symbol = "SOL-USDT", side = "sell", type = "trailingStop", quantity = "1", callbackRate = "0.01" }))
            .Status(HttpStatusCode.Created);
        Assert.Equal("untriggered", order.Str("status"));
        Assert.Equal("0.01", order.Str("callbackRate"));
        Assert.Equal(100m, order.Dec("trailingExtreme"));

        await app.SetPriceAsync("SOL-USDT", "110");
        Assert.Equal(110m, (await Order(t, order.Str("orderId"))).Dec("trailingExtreme"));

        await app.SetPriceAsync("SOL-USDT", "108.91");
        Assert.Equal("untriggered", (await Order(t, order.Str("orderId"))).Str("status"));

        await app.SetPriceAsync("SOL-USDT", "108.9");
        var fired = await Order(t, order.Str("orderId"));
        Assert.Equal("filled", fired.Str("status"));
        Assert.Equal(108.9m, fired.Dec("averageFillPrice"));
    }

    [Fact]
    public async Task PlaceTrailingStop_CallbackAmount_FiresAfterPullbackOfThatAmount()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("SOL-USDT", "100");

        var order = (await Place(t, new { symbol = "SOL-USDT", side = "buy", type = "trailingStop", quantity = "1", callbackAmount = "2" }))
            .Status(HttpStatusCode.Created);
        Assert.Equal("2", order.Str("callbackAmount"));

        // A trailing buy follows the low and fires on a rise from it.
        await app.SetPriceAsync("SOL-USDT", "90");
        await app.SetPriceAsync("SOL-USDT", "91.99");
        Assert.Equal("untriggered", (await Order(t, order.Str("orderId"))).Str("status"));

        await app.SetPriceAsync("SOL-USDT", "92");
        var fired = await Order(t, order.Str("orderId"));
        Assert.Equal("filled", fired.Str("status"));
        Assert.Equal(92m, fired.Dec("averageFillPrice"));
        Assert.Equal("long", Assert.Single(await Positions(t)).Str("side"));
    }

    [Fact]
    public async Task PlaceTrailingStop_ActivationPrice_TrailsOnlyOnceActivated()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("SOL-USDT", "100");

        var order = (await Place(t, new { symbol = "SOL-USDT", side = "sell", type = "trailingStop", quantity = "1", callbackRate = "0.01", activationPrice = "105" }))
            .Status(HttpStatusCode.Created);
        Assert.Equal("105", order.Str("activationPrice"));
        Assert.False(order.TryGetProperty("trailingExtreme", out _));

        // Not active yet: a 1% drop from the current high does nothing.
        await app.SetPriceAsync("SOL-USDT", "104");
        await app.SetPriceAsync("SOL-USDT", "90");
        var waiting = await Order(t, order.Str("orderId"));
        Assert.Equal("untriggered", waiting.Str("status"));
        Assert.False(waiting.TryGetProperty("trailingExtreme", out _));

        await app.SetPriceAsync("SOL-USDT", "105");
        Assert.Equal(105m, (await Order(t, order.Str("orderId"))).Dec("trailingExtreme"));
        await app.SetPriceAsync("SOL-USDT", "110");
        await app.SetPriceAsync("SOL-USDT", "108.9");
        Assert.Equal("filled", (await Order(t, order.Str("orderId"))).Str("status"));
    }

    [Fact]
    public async Task PlaceStop_ClosePosition_ClosesWholePositionWhenFired()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.02" })).Status(HttpStatusCode.Created);

        var stop = (await Place(t, new { symbol = "BTC-USDT", side = "sell", type = "stop", triggerPrice = "60000", closePosition = true })).Status(HttpStatusCode.Created);
        Assert.True(stop.GetProperty("closePosition").GetBoolean());
        Assert.Equal("untriggered", stop.Str("status"));

        await app.SetPriceAsync("BTC-USDT", "59999.9");
        var fired = await Order(t, stop.Str("orderId"));
        Assert.Equal("filled", fired.Str("status"));
        Assert.Equal("0.02", fired.Str("filledQuantity"));
        Assert.Empty(await Positions(t));
    }

    [Fact]
    public async Task PlaceLimit_ReduceOnlyLargerThanPosition_FillsOnlyThePosition()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.01" })).Status(HttpStatusCode.Created);

        var order = (await Place(t, new { symbol = "BTC-USDT", side = "sell", type = "limit", quantity = "0.05", price = "65000", reduceOnly = true })).Status(HttpStatusCode.Created);
        await app.SetPriceAsync("BTC-USDT", "65000");

        var filled = await Order(t, order.Str("orderId"));
        Assert.Equal("filled", filled.Str("status"));
        Assert.Equal("0.01", filled.Str("filledQuantity"));
        Assert.Empty(await Positions(t));
    }

    [Fact]
    public async Task PlaceOrder_OtherBucket_UsesThatBucketsMargin()
    {
        var t = await app.CreateTraderAsync(wallet: "10000", bucket: "1000");
        var second = (await app.PostAsync($"{t.Path}/buckets", new { name = "side", allocation = "500" }, t.ApiKey)).Status(HttpStatusCode.Created).Str("bucketId");
        await app.SetPriceAsync("BTC-USDT", "50000");

        var order = (await Place(t, new { bucketId = second, symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.01" })).Status(HttpStatusCode.Created);

        Assert.Equal(second, order.Str("bucketId"));
        var position = Assert.Single(await Positions(t));
        Assert.Equal(second, position.Str("bucketId"));
        var manual = (await app.GetAsync($"{t.Path}/buckets/{t.BucketId}", t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal("0", manual.Str("usedMargin"));
        var side = (await app.GetAsync($"{t.Path}/buckets/{second}", t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal(50m, side.Dec("usedMargin"));
    }

    [Fact]
    public async Task GetOrders_StatusAndFilters_SelectTheRightOrders()
    {
        var t = await app.CreateTraderAsync();
        var second = (await app.PostAsync($"{t.Path}/buckets", new { name = "second", allocation = "1000" }, t.ApiKey)).Status(HttpStatusCode.Created).Str("bucketId");
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        await app.SetPriceAsync("ETH-USDT", "3000");

        var btcLimit = (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "limit", quantity = "0.01", price = "60000" })).Status(HttpStatusCode.Created).Str("orderId");
        var ethStop = (await Place(t, new { symbol = "ETH-USDT", side = "buy", type = "stop", quantity = "0.1", triggerPrice = "3500" })).Status(HttpStatusCode.Created).Str("orderId");
        var btcMarket = (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.001" })).Status(HttpStatusCode.Created).Str("orderId");
        var cancelled = (await Place(t, new { symbol = "ETH-USDT", side = "buy", type = "limit", quantity = "0.1", price = "2500" })).Status(HttpStatusCode.Created).Str("orderId");
        (await app.DeleteAsync($"{t.Path}/orders/{cancelled}", t.ApiKey)).Status(HttpStatusCode.OK);
        var secondLimit = (await Place(t, new { bucketId = second, symbol = "BTC-USDT", side = "sell", type = "limit", quantity = "0.01", price = "70000" }))
            .Status(HttpStatusCode.Created).Str("orderId");

        async Task<string[]> Ids(string query) =>
            (await app.GetAsync($"{t.Path}/orders{query}", t.ApiKey)).Status(HttpStatusCode.OK).Items().Select(o => o.Str("orderId")).ToArray();

        Assert.Equal([btcLimit, ethStop, secondLimit], await Ids(""));
        Assert.Equal([btcLimit, ethStop, secondLimit], await Ids("?status=open"));
        Assert.Equal(new[] { btcLimit, ethStop, btcMarket, cancelled, secondLimit }.Order(), (await Ids("?status=all")).Order());
        Assert.Equal([btcLimit, secondLimit], await Ids("?symbol=BTC-USDT"));
        Assert.Equal(new[] { btcLimit, btcMarket, secondLimit }.Order(), (await Ids("?status=all&symbol=BTC-USDT")).Order());
        Assert.Equal([secondLimit], await Ids($"?bucketId={second}"));
        Assert.Equal([btcLimit], await Ids($"?symbol=BTC-USDT&bucketId={t.BucketId}"));
        Assert.Empty(await Ids("?symbol=SOL-USDT"));
    }

    [Fact]
    public async Task GetOrders_UnknownStatus_Returns400InvalidStatus()
    {
        var t = await app.CreateTraderAsync();
        (await app.GetAsync($"{t.Path}/orders?status=done", t.ApiKey)).Problem(HttpStatusCode.BadRequest, "invalid_status");
    }

    [Fact]
    public async Task GetOrder_ById_ReturnsTheOrder()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        var placed = (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "limit", quantity = "0.01", price = "60000", clientOrderId = "mine-1" }))
            .Status(HttpStatusCode.Created);

        var order = await Order(t, placed.Str("orderId"));

        Assert.Equal(placed.GetRawText(), order.GetRawText());
        Assert.Equal("mine-1", order.Str("clientOrderId"));
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("{self}-o999999")]
    [InlineData("{self}-o0")]
    [InlineData("{self}-o-1")]
    public async Task GetOrder_Unknown_Returns404(string orderId)
    {
        var t = await app.CreateTraderAsync();
        (await app.GetAsync($"{t.Path}/orders/{orderId.Replace("{self}", t.AccountId)}", t.ApiKey)).Problem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task AmendOrder_LimitPriceAndQuantity_ChangesTheRestingOrder()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        var id = (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "limit", quantity = "0.01", price = "60000" })).Status(HttpStatusCode.Created).Str("orderId");

        var amended = (await app.PatchAsync($"{t.Path}/orders/{id}", new { price = "61000.5", quantity = "0.02" }, t.ApiKey)).Status(HttpStatusCode.OK);

        Assert.Equal(id, amended.Str("orderId"));
        Assert.Equal("61000.5", amended.Str("price"));
        Assert.Equal("0.02", amended.Str("quantity"));
        Assert.Equal("open", amended.Str("status"));
        Assert.Equal(amended.GetRawText(), (await Order(t, id)).GetRawText());

        // The book follows the amended price.
        await app.SetPriceAsync("BTC-USDT", "61000.5");
        var filled = await Order(t, id);
        Assert.Equal("filled", filled.Str("status"));
        Assert.Equal("0.02", filled.Str("filledQuantity"));
    }

    [Fact]
    public async Task AmendOrder_StopTriggerPrice_MovesTheTrigger()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        var id = (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "stop", quantity = "0.01", triggerPrice = "66000" })).Status(HttpStatusCode.Created).Str("orderId");

        var amended = (await app.PatchAsync($"{t.Path}/orders/{id}", new { triggerPrice = "67000" }, t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal("67000", amended.Str("triggerPrice"));

        await app.SetPriceAsync("BTC-USDT", "66500");
        Assert.Equal("untriggered", (await Order(t, id)).Str("status"));
        await app.SetPriceAsync("BTC-USDT", "67000");
        Assert.Equal("filled", (await Order(t, id)).Str("status"));
    }

    [Fact]
    public async Task AmendOrder_TrailingCallbackRate_ChangesTheCallback()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("ETH-USDT", "3000");
        var id = (await Place(t, new { symbol = "ETH-USDT", side = "sell", type = "trailingStop", quantity = "0.1", callbackRate = "0.01" })).Status(HttpStatusCode.Created).Str("orderId");

        var amended = (await app.PatchAsync($"{t.Path}/orders/{id}", new { callbackRate = "0.05" }, t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal("0.05", amended.Str("callbackRate"));

        // 2% below the high would have fired at 1%, not at 5%.
        await app.SetPriceAsync("ETH-USDT", "2940");
        Assert.Equal("untriggered", (await Order(t, id)).Str("status"));
        await app.SetPriceAsync("ETH-USDT", "2850");
        Assert.Equal("filled", (await Order(t, id)).Str("status"));
    }

    [Theory]
    [InlineData("{}", HttpStatusCode.BadRequest, "nothing_to_amend")]
    [InlineData("{\"price\":\"60000.05\"}", HttpStatusCode.BadRequest, "invalid_tick_size")]
    [InlineData("{\"quantity\":\"0\"}", HttpStatusCode.BadRequest, "invalid_quantity")]
    [InlineData("{\"quantity\":\"0.0101\"}", HttpStatusCode.BadRequest, "invalid_lot_size")]
    [InlineData("{\"triggerPrice\":\"61000\"}", HttpStatusCode.BadRequest, "invalid_trigger_price")]
    [InlineData("{\"callbackRate\":\"0.01\"}", HttpStatusCode.BadRequest, "invalid_callback")]
    [InlineData("{\"price\":true}", HttpStatusCode.BadRequest, "invalid_price")]
    [InlineData("{\"price\":\"1e400\"}", HttpStatusCode.BadRequest, "invalid_price")]
    [InlineData("{\"price\":", HttpStatusCode.BadRequest, "malformed_json")]
    public async Task AmendOrder_InvalidChange_ReturnsErrorAndChangesNothing(string body, HttpStatusCode status, string code)
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        var id = (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "limit", quantity = "0.01", price = "60000" })).Status(HttpStatusCode.Created).Str("orderId");
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);

        (await app.PatchAsync($"{t.Path}/orders/{id}", body, t.ApiKey)).Problem(status, code);

        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
    }

    [Fact]
    public async Task AmendOrder_TriggerAlreadyReached_Returns422WouldImmediatelyTriggerAndChangesNothing()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        var id = (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "stop", quantity = "0.01", triggerPrice = "66000" })).Status(HttpStatusCode.Created).Str("orderId");
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);

        (await app.PatchAsync($"{t.Path}/orders/{id}", new { triggerPrice = "64000" }, t.ApiKey)).Problem(HttpStatusCode.UnprocessableEntity, "would_immediately_trigger");

        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
    }

    [Fact]
    public async Task AmendOrder_StopLossBeyondLiquidation_Returns422AndChangesNothing()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.01" })).Status(HttpStatusCode.Created);
        var id = (await Place(t, new { symbol = "BTC-USDT", side = "sell", type = "stop", quantity = "0.01", triggerPrice = "60000" })).Status(HttpStatusCode.Created).Str("orderId");
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);

        (await app.PatchAsync($"{t.Path}/orders/{id}", new { triggerPrice = "58000" }, t.ApiKey)).Problem(HttpStatusCode.UnprocessableEntity, "stop_beyond_liquidation");

        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
    }

    [Fact]
    public async Task PlaceStop_BucketCannotAffordItWhenFired_IsRejectedWithReason()
    {
        var t = await app.CreateTraderAsync(wallet: "10000", bucket: "20");
        await app.SetPriceAsync("SOL-USDT", "100");

        // Conditional orders reserve nothing while they wait: accepted now, checked when fired.
        var id = (await Place(t, new { symbol = "SOL-USDT", side = "buy", type = "stop", quantity = "3", triggerPrice = "105" })).Status(HttpStatusCode.Created).Str("orderId");
        await app.SetPriceAsync("SOL-USDT", "105");

        var rejected = await Order(t, id);
        Assert.Equal("rejected", rejected.Str("status"));
        Assert.Equal("insufficient_margin", rejected.Str("reason"));
        Assert.Empty(await Positions(t));
        var events = (await app.GetAsync($"{t.Path}/events", t.ApiKey)).Status(HttpStatusCode.OK).Items();
        var last = events[^1];
        Assert.Equal("orderRejected", last.Str("type"));
        Assert.Equal(id, last.Str("orderId"));
        Assert.Equal("insufficient_margin", last.Str("reason"));
    }

    [Fact]
    public async Task AmendOrder_Filled_Returns422OrderClosed()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        var id = (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.01" })).Status(HttpStatusCode.Created).Str("orderId");
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);

        (await app.PatchAsync($"{t.Path}/orders/{id}", new { quantity = "0.02" }, t.ApiKey)).Problem(HttpStatusCode.UnprocessableEntity, "order_closed");

        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
    }

    [Fact]
    public async Task AmendOrder_UnknownOrder_Returns404()
    {
        var t = await app.CreateTraderAsync();
        (await app.PatchAsync($"{t.Path}/orders/{t.AccountId}-o987654", new { price = "1" }, t.ApiKey)).Problem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task CancelOrder_Open_Returns200CancelledByUser()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        var id = (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "limit", quantity = "0.01", price = "60000" })).Status(HttpStatusCode.Created).Str("orderId");

        var cancelled = (await app.DeleteAsync($"{t.Path}/orders/{id}", t.ApiKey)).Status(HttpStatusCode.OK);

        Assert.Equal(id, cancelled.Str("orderId"));
        Assert.Equal("cancelled", cancelled.Str("status"));
        Assert.Equal("user", cancelled.Str("reason"));
        Assert.Equal("cancelled", (await Order(t, id)).Str("status"));
        Assert.Empty((await app.GetAsync($"{t.Path}/orders", t.ApiKey)).Status(HttpStatusCode.OK).Items());

        // A cancelled order no longer fills.
        await app.SetPriceAsync("BTC-USDT", "59000");
        Assert.Equal("cancelled", (await Order(t, id)).Str("status"));
        Assert.Empty(await Positions(t));
    }

    [Fact]
    public async Task CancelOrder_AlreadyCancelled_Returns422OrderClosedAndChangesNothing()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        var id = (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "limit", quantity = "0.01", price = "60000" })).Status(HttpStatusCode.Created).Str("orderId");
        (await app.DeleteAsync($"{t.Path}/orders/{id}", t.ApiKey)).Status(HttpStatusCode.OK);
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);

        (await app.DeleteAsync($"{t.Path}/orders/{id}", t.ApiKey)).Problem(HttpStatusCode.UnprocessableEntity, "order_closed");

        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
    }

    [Fact]
    public async Task CancelOrder_SameIdempotencyKeyTwice_ReturnsTheFirstAnswer()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        var id = (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "limit", quantity = "0.01", price = "60000" })).Status(HttpStatusCode.Created).Str("orderId");
        var key = new Dictionary<string, string> { ["Idempotency-Key"] = "cancel-1" };

        var first = (await app.DeleteAsync($"{t.Path}/orders/{id}", t.ApiKey, key)).Status(HttpStatusCode.OK);
        var retry = (await app.DeleteAsync($"{t.Path}/orders/{id}", t.ApiKey, key)).Status(HttpStatusCode.OK);

        Assert.Equal(first.GetRawText(), retry.GetRawText());
        Assert.Equal("cancelled", retry.Str("status"));
    }

    [Fact]
    public async Task CancelAllOrders_SameIdempotencyKeyTwice_CancelsOnlyTheFirstTime()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "limit", quantity = "0.01", price = "60000" })).Status(HttpStatusCode.Created);
        var key = new Dictionary<string, string> { ["Idempotency-Key"] = "cancel-all-1" };
        Assert.Equal(1, (await app.DeleteAsync($"{t.Path}/orders", t.ApiKey, key)).Status(HttpStatusCode.OK).GetProperty("cancelled").GetInt32());
        var later = (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "limit", quantity = "0.01", price = "59000" })).Status(HttpStatusCode.Created).Str("orderId");

        var retry = (await app.DeleteAsync($"{t.Path}/orders", t.ApiKey, key)).Status(HttpStatusCode.OK);

        Assert.Equal(1, retry.GetProperty("cancelled").GetInt32());
        Assert.Equal("open", (await Order(t, later)).Str("status"));
    }

    [Fact]
    public async Task AmendOrder_SameIdempotencyKeyOtherChange_Returns409AndChangesNothing()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        var id = (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "limit", quantity = "0.01", price = "60000" })).Status(HttpStatusCode.Created).Str("orderId");
        var key = new Dictionary<string, string> { ["Idempotency-Key"] = "amend-1" };
        (await app.PatchAsync($"{t.Path}/orders/{id}", new { price = "60100" }, t.ApiKey, key)).Status(HttpStatusCode.OK);
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);

        (await app.PatchAsync($"{t.Path}/orders/{id}", new { price = "60200" }, t.ApiKey, key)).Problem(HttpStatusCode.Conflict, "duplicate_client_order_id");

        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
        Assert.Equal("60100", (await Order(t, id)).Str("price"));
    }

    [Fact]
    public async Task CancelOrder_Unknown_Returns404()
    {
        var t = await app.CreateTraderAsync();
        (await app.DeleteAsync($"{t.Path}/orders/{t.AccountId}-o424242", t.ApiKey)).Problem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task CancelAllOrders_BySymbolThenBucketThenAll_CancelsOnlyTheMatchingOnes()
    {
        var t = await app.CreateTraderAsync();
        var second = (await app.PostAsync($"{t.Path}/buckets", new { name = "second", allocation = "1000" }, t.ApiKey)).Status(HttpStatusCode.Created).Str("bucketId");
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        await app.SetPriceAsync("ETH-USDT", "3000");
        (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "limit", quantity = "0.01", price = "60000" })).Status(HttpStatusCode.Created);
        (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "stop", quantity = "0.01", triggerPrice = "70000" })).Status(HttpStatusCode.Created);
        var eth = (await Place(t, new { symbol = "ETH-USDT", side = "buy", type = "limit", quantity = "0.1", price = "2500" })).Status(HttpStatusCode.Created).Str("orderId");
        var inSecond = (await Place(t, new { bucketId = second, symbol = "BTC-USDT", side = "buy", type = "limit", quantity = "0.01", price = "60000" }))
            .Status(HttpStatusCode.Created).Str("orderId");

        var bySymbol = (await app.DeleteAsync($"{t.Path}/orders?symbol=ETH-USDT", t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal(1, bySymbol.GetProperty("cancelled").GetInt32());
        var ethOrder = await Order(t, eth);
        Assert.Equal("cancelled", ethOrder.Str("status"));
        Assert.Equal("user", ethOrder.Str("reason"));

        var byBucket = (await app.DeleteAsync($"{t.Path}/orders?bucketId={second}", t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal(1, byBucket.GetProperty("cancelled").GetInt32());
        Assert.Equal("cancelled", (await Order(t, inSecond)).Str("status"));
        Assert.Equal(2, (await app.GetAsync($"{t.Path}/orders", t.ApiKey)).Status(HttpStatusCode.OK).Items().Length);

        var all = (await app.DeleteAsync($"{t.Path}/orders", t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal(2, all.GetProperty("cancelled").GetInt32());
        Assert.Empty((await app.GetAsync($"{t.Path}/orders", t.ApiKey)).Status(HttpStatusCode.OK).Items());

        var none = (await app.DeleteAsync($"{t.Path}/orders", t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal(0, none.GetProperty("cancelled").GetInt32());
    }

    [Fact]
    public async Task CancelAllOrders_UnknownBucket_Returns404AndCancelsNothing()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "limit", quantity = "0.01", price = "60000" })).Status(HttpStatusCode.Created);
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);

        (await app.DeleteAsync($"{t.Path}/orders?bucketId={t.AccountId}-b77", t.ApiKey)).Problem(HttpStatusCode.NotFound, "not_found");

        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
    }

    [Fact]
    public async Task ClosePosition_OpenLong_Returns201ReduceOnlyMarketSellAndFlattens()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.01" })).Status(HttpStatusCode.Created);
        await app.SetPriceAsync("BTC-USDT", "65250.5");

        var closing = (await app.PostAsync($"{t.Path}/buckets/{t.BucketId}/positions/BTC-USDT/close", null, t.ApiKey)).Status(HttpStatusCode.Created);

        Assert.Equal("sell", closing.Str("side"));
        Assert.Equal("market", closing.Str("type"));
        Assert.True(closing.GetProperty("reduceOnly").GetBoolean());
        Assert.Equal("filled", closing.Str("status"));
        Assert.Equal("0.01", closing.Str("filledQuantity"));
        Assert.Equal(65250.5m, closing.Dec("averageFillPrice"));
        Assert.Empty(await Positions(t));
        var bucket = (await app.GetAsync($"{t.Path}/buckets/{t.BucketId}", t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal(10m, bucket.Dec("realizedPnl"));
        Assert.Equal("0", bucket.Str("usedMargin"));
    }

    [Fact]
    public async Task ClosePosition_SameIdempotencyKeyTwice_ClosesOnce()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.01" })).Status(HttpStatusCode.Created);
        var key = new Dictionary<string, string> { ["Idempotency-Key"] = "close-1" };

        var first = (await app.PostAsync($"{t.Path}/buckets/{t.BucketId}/positions/BTC-USDT/close", null, t.ApiKey, key)).Status(HttpStatusCode.Created);
        var second = (await app.PostAsync($"{t.Path}/buckets/{t.BucketId}/positions/BTC-USDT/close", null, t.ApiKey, key)).Status(HttpStatusCode.Created);

        Assert.Equal(first.Str("orderId"), second.Str("orderId"));
        Assert.Equal(2, (await app.GetAsync($"{t.Path}/fills", t.ApiKey)).Status(HttpStatusCode.OK).Items().Length);
    }

    [Fact]
    public async Task ClosePosition_NoPosition_Returns422NoPositionAndChangesNothing()
    {
        var t = await app.CreateTraderAsync();
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);

        (await app.PostAsync($"{t.Path}/buckets/{t.BucketId}/positions/BTC-USDT/close", null, t.ApiKey)).Problem(HttpStatusCode.UnprocessableEntity, "no_position");

        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
    }

    [Fact]
    public async Task ClosePosition_UnknownBucket_Returns404()
    {
        var t = await app.CreateTraderAsync();
        (await app.PostAsync($"{t.Path}/buckets/{t.AccountId}-b5/positions/BTC-USDT/close", null, t.ApiKey)).Problem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task GetFills_ThreeFills_ListsOldestFirstWithAllFields()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("ETH-USDT", "3000");
        var first = (await Place(t, new { symbol = "ETH-USDT", side = "buy", type = "market", quantity = "0.1" })).Status(HttpStatusCode.Created).Str("orderId");
        (await Place(t, new { symbol = "ETH-USDT", side = "buy", type = "market", quantity = "0.2" })).Status(HttpStatusCode.Created);
        await app.SetPriceAsync("ETH-USDT", "3100");
        var sell = (await Place(t, new { symbol = "ETH-USDT", side = "sell", type = "market", quantity = "0.05" })).Status(HttpStatusCode.Created).Str("orderId");

        var fills = (await app.GetAsync($"{t.Path}/fills", t.ApiKey)).Status(HttpStatusCode.OK).Items();

        Assert.Equal(3, fills.Length);
        Assert.Equal(3, fills.Select(f => f.Str("fillId")).Distinct().Count());
        Assert.Equal(first, fills[0].Str("orderId"));
        Assert.Equal(t.BucketId, fills[0].Str("bucketId"));
        Assert.Equal("ETH-USDT", fills[0].Str("symbol"));
        Assert.Equal("buy", fills[0].Str("side"));
        Assert.Equal("0.1", fills[0].Str("quantity"));
        Assert.Equal(3000m, fills[0].Dec("price"));
        Assert.Equal(0.15m, fills[0].Dec("fee"));
        Assert.Equal(0m, fills[0].Dec("realizedPnl"));
        Assert.Equal("taker", fills[0].Str("liquidity"));
        Assert.Equal(app.Clock.GetUtcNow(), fills[0].GetProperty("timestamp").GetDateTimeOffset());
        Assert.Equal(sell, fills[2].Str("orderId"));
        Assert.Equal("sell", fills[2].Str("side"));
        Assert.Equal(5m, fills[2].Dec("realizedPnl"));
        Assert.Equal(0.0775m, fills[2].Dec("fee"));
    }

    [Fact]
    public async Task GetFills_AfterAndLimit_PageThroughTheFills()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("ETH-USDT", "3000");
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        for (var i = 0; i < 3; i++)
            (await Place(t, new { symbol = "ETH-USDT", side = "buy", type = "market", quantity = "0.01" })).Status(HttpStatusCode.Created);
        (await Place(t, new { symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.001" })).Status(HttpStatusCode.Created);
        var all = (await app.GetAsync($"{t.Path}/fills", t.ApiKey)).Status(HttpStatusCode.OK).Items().Select(f => f.Str("fillId")).ToArray();
        Assert.Equal(4, all.Length);

        async Task<string[]> Page(string query) =>
            (await app.GetAsync($"{t.Path}/fills{query}", t.ApiKey)).Status(HttpStatusCode.OK).Items().Select(f => f.Str("fillId")).ToArray();

        Assert.Equal(all[..2], await Page("?limit=2"));
        Assert.Equal(all[2..4], await Page($"?after={all[1]}&limit=2"));
        Assert.Empty(await Page($"?after={all[3]}"));
        Assert.Equal(all[..3], await Page("?symbol=ETH-USDT"));
        Assert.Equal([all[3]], await Page("?symbol=BTC-USDT"));
        Assert.Equal([all[2]], await Page($"?symbol=ETH-USDT&after={all[1]}"));
    }

    [Theory]
    [InlineData("?limit=0", "invalid_limit")]
    [InlineData("?limit=1001", "invalid_limit")]
    [InlineData("?limit=abc", "invalid_request")]
    [InlineData("?after=nonsense", "invalid_after")]
    public async Task GetFills_InvalidQuery_Returns400(string query, string code)
    {
        var t = await app.CreateTraderAsync();
        (await app.GetAsync($"{t.Path}/fills{query}", t.ApiKey)).Problem(HttpStatusCode.BadRequest, code);
    }

    [Fact]
    public async Task GetFills_AfterAnotherAccountsFillId_Returns400()
    {
        var a = await app.CreateTraderAsync();
        var b = await app.CreateTraderAsync();
        await app.SetPriceAsync("ETH-USDT", "3000");
        (await Place(a, new { symbol = "ETH-USDT", side = "buy", type = "market", quantity = "0.01" })).Status(HttpStatusCode.Created);
        var fillId = (await app.GetAsync($"{a.Path}/fills", a.ApiKey)).Status(HttpStatusCode.OK).Items()[0].Str("fillId");

        (await app.GetAsync($"{b.Path}/fills?after={fillId}", b.ApiKey)).Problem(HttpStatusCode.BadRequest, "invalid_after");
    }
}
