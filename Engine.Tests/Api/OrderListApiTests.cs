using System.Net;
using System.Text.Json;

namespace Engine.Tests.Api;

/// <summary>Order lists: oco, oto, bracket and straddle, from placement to their exits firing.</summary>
public sealed class OrderListApiTests(EngineApp app) : IClassFixture<EngineApp>
{
    private Task<(HttpStatusCode Status, JsonElement Body)> PlaceList(Trader t, object body) => app.PostAsync($"{t.Path}/order-lists", body, t.ApiKey);

    private async Task<JsonElement> Order(Trader t, string orderId) => (await app.GetAsync($"{t.Path}/orders/{orderId}", t.ApiKey)).Status(HttpStatusCode.OK);

    private async Task<JsonElement[]> Positions(Trader t) => (await app.GetAsync($"{t.Path}/positions", t.ApiKey)).Status(HttpStatusCode.OK).Items();

    private static JsonElement[] AssertListShape(JsonElement list, string type, int orders)
    {
        Assert.False(string.IsNullOrEmpty(list.Str("listId")));
        Assert.Equal(type, list.Str("type"));
        Assert.Equal("active", list.Str("status"));
        var members = list.Items("orders");
        Assert.Equal(orders, members.Length);
        Assert.All(members, o => Assert.Equal(list.Str("listId"), o.Str("listId")));
        return members;
    }

    [Fact]
    public async Task PlaceOco_OneLegFires_TheOtherIsCancelledAsSibling()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("SOL-USDT", "100");
        (await app.PostAsync($"{t.Path}/orders", new { symbol = "SOL-USDT", side = "buy", type = "market", quantity = "1" }, t.ApiKey)).Status(HttpStatusCode.Created);

        var list = (await PlaceList(t, new
        {
            type = "oco",
            legs = new object[]
            {
                new { symbol = "SOL-USDT", side = "sell", type = "takeProfit", quantity = "1", triggerPrice = "110", reduceOnly = true },
                new { symbol = "SOL-USDT", side = "sell", type = "stop", quantity = "1", triggerPrice = "95", reduceOnly = true },
            },
        })).Status(HttpStatusCode.Created);

        var legs = AssertListShape(list, "oco", 2);
        var (tp, sl) = (legs[0].Str("orderId"), legs[1].Str("orderId"));
        Assert.Equal(sl, legs[0].Str("ocoSiblingId"));
        Assert.Equal(tp, legs[1].Str("ocoSiblingId"));
        Assert.All(legs, l => Assert.Equal("untriggered", l.Str("status")));

        await app.SetPriceAsync("SOL-USDT", "94.5");

        Assert.Equal("filled", (await Order(t, sl)).Str("status"));
        var cancelled = await Order(t, tp);
        Assert.Equal("cancelled", cancelled.Str("status"));
        Assert.Equal("oco_sibling_triggered", cancelled.Str("reason"));
        Assert.Empty(await Positions(t));
    }

    [Fact]
    public async Task PlaceOto_PrimaryFills_SecondaryArmsAndLaterFires()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("SOL-USDT", "100");

        var list = (await PlaceList(t, new
        {
            type = "oto",
            primary = new { symbol = "SOL-USDT", side = "buy", type = "limit", quantity = "1", price = "99" },
            secondary = new[] { new { symbol = "SOL-USDT", side = "sell", type = "takeProfit", quantity = "1", triggerPrice = "110", reduceOnly = true } },
        })).Status(HttpStatusCode.Created);

        var orders = AssertListShape(list, "oto", 2);
        var (primary, secondary) = (orders[0].Str("orderId"), orders[1].Str("orderId"));
        Assert.Equal("open", orders[0].Str("status"));
        Assert.Equal("untriggered", orders[1].Str("status"));
        Assert.Equal(primary, orders[1].Str("parentOrderId"));

        // The secondary waits for its primary: a rise through its trigger does nothing yet.
        await app.SetPriceAsync("SOL-USDT", "111");
        Assert.Equal("untriggered", (await Order(t, secondary)).Str("status"));
        Assert.Equal("open", (await Order(t, primary)).Str("status"));

        await app.SetPriceAsync("SOL-USDT", "98.9");
        Assert.Equal("filled", (await Order(t, primary)).Str("status"));
        Assert.Equal("untriggered", (await Order(t, secondary)).Str("status"));

        await app.SetPriceAsync("SOL-USDT", "110");
        Assert.Equal("filled", (await Order(t, secondary)).Str("status"));
        Assert.Empty(await Positions(t));
    }

    [Fact]
    public async Task PlaceOto_PrimaryCancelled_SecondaryIsCancelledToo()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("SOL-USDT", "100");
        var list = (await PlaceList(t, new
        {
            type = "oto",
            primary = new { symbol = "SOL-USDT", side = "buy", type = "limit", quantity = "1", price = "90" },
            secondary = new[] { new { symbol = "SOL-USDT", side = "sell", type = "takeProfit", quantity = "1", triggerPrice = "110", reduceOnly = true } },
        })).Status(HttpStatusCode.Created);
        var orders = list.Items("orders");

        (await app.DeleteAsync($"{t.Path}/orders/{orders[0].Str("orderId")}", t.ApiKey)).Status(HttpStatusCode.OK);

        var secondary = await Order(t, orders[1].Str("orderId"));
        Assert.Equal("cancelled", secondary.Str("status"));
        Assert.Equal("primary_not_filled", secondary.Str("reason"));
    }

    [Fact]
    public async Task PlaceBracket_EntryFills_ExitsArmAsReduceOnlyOcoAndTakeProfitFires()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("SOL-USDT", "100");

        var list = (await PlaceList(t, new
        {
            type = "bracket",
            entry = new { symbol = "SOL-USDT", side = "buy", type = "limit", quantity = "2", price = "99" },
            takeProfit = new { triggerPrice = "110" },
            stopLoss = new { triggerPrice = "95" },
        })).Status(HttpStatusCode.Created);

        var orders = AssertListShape(list, "bracket", 3);
        var (entry, tp, sl) = (orders[0].Str("orderId"), orders[1].Str("orderId"), orders[2].Str("orderId"));
        Assert.Equal("open", orders[0].Str("status"));
        Assert.Equal("takeProfit", orders[1].Str("type"));
        Assert.Equal("stop", orders[2].Str("type"));
        Assert.All(orders[1..], o =>
        {
            Assert.Equal("untriggered", o.Str("status"));
            Assert.Equal("sell", o.Str("side"));
            Assert.True(o.GetProperty("reduceOnly").GetBoolean());
            Assert.Equal(entry, o.Str("parentOrderId"));
        });
        Assert.Equal(sl, orders[1].Str("ocoSiblingId"));
        Assert.Equal(tp, orders[2].Str("ocoSiblingId"));

        await app.SetPriceAsync("SOL-USDT", "98.5");
        Assert.Equal("filled", (await Order(t, entry)).Str("status"));
        var armedTp = await Order(t, tp);
        Assert.Equal("untriggered", armedTp.Str("status"));
        Assert.Equal(2m, armedTp.Dec("quantity"));
        Assert.Equal("110", armedTp.Str("triggerPrice"));
        Assert.Equal(2m, (await Order(t, sl)).Dec("quantity"));

        await app.SetPriceAsync("SOL-USDT", "110.5");
        Assert.Equal("filled", (await Order(t, tp)).Str("status"));
        var cancelled = await Order(t, sl);
        Assert.Equal("cancelled", cancelled.Str("status"));
        Assert.Equal("oco_sibling_triggered", cancelled.Str("reason"));
        Assert.Empty(await Positions(t));
    }

    [Fact]
    public async Task PlaceBracket_MarketEntry_FillsAtOnceAndStopLossFiresLater()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("SOL-USDT", "100");

        var list = (await PlaceList(t, new
        {
            type = "bracket",
            entry = new { symbol = "SOL-USDT", side = "buy", type = "market", quantity = "1" },
            takeProfit = new { triggerPrice = "120" },
            stopLoss = new { triggerPrice = "95", price = "94.9" },
        })).Status(HttpStatusCode.Created);

        var orders = list.Items("orders");
        Assert.Equal("filled", orders[0].Str("status"));
        Assert.Equal("stopLimit", orders[2].Str("type"));
        Assert.Equal("1", orders[2].Str("quantity"));
        Assert.Equal("untriggered", orders[2].Str("status"));

        await app.SetPriceAsync("SOL-USDT", "95");
        Assert.Equal("filled", (await Order(t, orders[2].Str("orderId"))).Str("status"));
        Assert.Equal("cancelled", (await Order(t, orders[1].Str("orderId"))).Str("status"));
        Assert.Empty(await Positions(t));
    }

    [Fact]
    public async Task PlaceStraddle_AboveFires_BelowIsCancelledAndTheFiredSideGetsItsBracket()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("ETH-USDT", "3000");

        var list = (await PlaceList(t, new
        {
            type = "straddle",
            symbol = "ETH-USDT",
            quantity = "0.1",
            above = new { triggerPrice = "3100" },
            below = new { triggerPrice = "2900" },
            takeProfit = new { distance = "0.02" },
            stopLoss = new { distance = "0.01" },
        })).Status(HttpStatusCode.Created);

        var orders = AssertListShape(list, "straddle", 6);
        var buy = orders.Single(o => o.Str("side") == "buy" && o.Str("type") == "stop" && o.OptStr("parentOrderId") is null);
        var sell = orders.Single(o => o.Str("side") == "sell" && o.Str("type") == "stop" && o.OptStr("parentOrderId") is null);
        Assert.Equal("3100", buy.Str("triggerPrice"));
        Assert.Equal("2900", sell.Str("triggerPrice"));
        Assert.Equal(sell.Str("orderId"), buy.Str("ocoSiblingId"));
        var buyExits = orders.Where(o => o.OptStr("parentOrderId") == buy.Str("orderId")).ToArray();
        var sellExits = orders.Where(o => o.OptStr("parentOrderId") == sell.Str("orderId")).ToArray();
        Assert.Equal(2, buyExits.Length);
        Assert.Equal(2, sellExits.Length);
        Assert.All(buyExits.Concat(sellExits), e => Assert.True(e.GetProperty("reduceOnly").GetBoolean()));

        await app.SetPriceAsync("ETH-USDT", "3100");

        Assert.Equal("filled", (await Order(t, buy.Str("orderId"))).Str("status"));
        var below = await Order(t, sell.Str("orderId"));
        Assert.Equal("cancelled", below.Str("status"));
        Assert.Equal("oco_sibling_triggered", below.Str("reason"));
        foreach (var e in sellExits) Assert.Equal("cancelled", (await Order(t, e.Str("orderId"))).Str("status"));

        var tp = await Order(t, buyExits.Single(e => e.Str("type") == "takeProfit").Str("orderId"));
        var sl = await Order(t, buyExits.Single(e => e.Str("type") == "stop").Str("orderId"));
        Assert.Equal("untriggered", tp.Str("status"));
        Assert.Equal("sell", tp.Str("side"));
        Assert.Equal(0.1m, tp.Dec("quantity"));
        Assert.Equal(3162m, tp.Dec("triggerPrice"));
        Assert.Equal(3069m, sl.Dec("triggerPrice"));
        Assert.Equal(sl.Str("orderId"), tp.Str("ocoSiblingId"));

        await app.SetPriceAsync("ETH-USDT", "3069");
        Assert.Equal("filled", (await Order(t, sl.Str("orderId"))).Str("status"));
        var tpAfter = await Order(t, tp.Str("orderId"));
        Assert.Equal("cancelled", tpAfter.Str("status"));
        Assert.Equal("oco_sibling_triggered", tpAfter.Str("reason"));
        Assert.Empty(await Positions(t));
    }

    [Fact]
    public async Task PlaceList_SameClientOrderIdAndBody_ReturnsTheSameList()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("SOL-USDT", "100");
        var body = new
        {
            type = "oco",
            clientOrderId = "list-1",
            legs = new object[]
            {
                new { symbol = "SOL-USDT", side = "buy", type = "limit", quantity = "1", price = "90" },
                new { symbol = "SOL-USDT", side = "buy", type = "stop", quantity = "1", triggerPrice = "110" },
            },
        };
        var first = (await PlaceList(t, body)).Status(HttpStatusCode.Created);
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);

        var second = (await PlaceList(t, body)).Status(HttpStatusCode.Created);

        Assert.Equal(first.Str("listId"), second.Str("listId"));
        Assert.Equal(first.Items("orders").Select(o => o.Str("orderId")), second.Items("orders").Select(o => o.Str("orderId")));
        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));

        var conflict = body with { legs = new object[] { body.legs[0], new { symbol = "SOL-USDT", side = "buy", type = "stop", quantity = "1", triggerPrice = "111" } } };
        (await PlaceList(t, conflict)).Problem(HttpStatusCode.Conflict, "duplicate_client_order_id");
        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
    }

    [Fact]
    public async Task PlaceOrder_ClientOrderIdLikeAListsInternalKey_IsItsOwnOrder()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("SOL-USDT", "100");
        var list = new
        {
            type = "oco",
            clientOrderId = "abc",
            legs = new object[]
            {
                new { symbol = "SOL-USDT", side = "buy", type = "limit", quantity = "1", price = "90" },
                new { symbol = "SOL-USDT", side = "buy", type = "stop", quantity = "1", triggerPrice = "110" },
            },
        };
        (await PlaceList(t, list)).Status(HttpStatusCode.Created);

        // Lists and orders share one table of client ids; an order's id must never hit a list's entry.
        var order = new { symbol = "SOL-USDT", side = "buy", type = "limit", quantity = "1", price = "91", clientOrderId = "list:abc" };
        (await app.PostAsync($"/v1/accounts/{t.AccountId}/orders", order, t.ApiKey)).Status(HttpStatusCode.Created);
        var hashed = order with { clientOrderId = "#abc" };
        (await app.PostAsync($"/v1/accounts/{t.AccountId}/orders", hashed, t.ApiKey)).Problem(HttpStatusCode.BadRequest, "invalid_client_order_id");
    }

    [Theory]
    [InlineData("{\"type\":\"zigzag\"}", HttpStatusCode.BadRequest, "invalid_type")]
    [InlineData("{\"legs\":[]}", HttpStatusCode.BadRequest, "invalid_type")]
    [InlineData("{\"type\":\"oco\",\"legs\":[{\"symbol\":\"SOL-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"1\",\"price\":\"90\"}]}", HttpStatusCode.BadRequest, "invalid_list")]
    [InlineData("{\"type\":\"oco\",\"legs\":[{\"symbol\":\"SOL-USDT\",\"side\":\"buy\",\"type\":\"market\",\"quantity\":\"1\"},{\"symbol\":\"SOL-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"1\",\"price\":\"90\"}]}", HttpStatusCode.BadRequest, "invalid_list")]
    [InlineData("{\"type\":\"oco\",\"legs\":[{\"symbol\":\"SOL-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"1\",\"price\":\"90\",\"clientOrderId\":\"x\"},{\"symbol\":\"SOL-USDT\",\"side\":\"buy\",\"type\":\"stop\",\"quantity\":\"1\",\"triggerPrice\":\"110\"}]}", HttpStatusCode.BadRequest, "invalid_client_order_id")]
    [InlineData("{\"type\":\"oco\",\"legs\":[{\"symbol\":\"SOL-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"1\",\"price\":\"90.001\"},{\"symbol\":\"SOL-USDT\",\"side\":\"buy\",\"type\":\"stop\",\"quantity\":\"1\",\"triggerPrice\":\"110\"}]}", HttpStatusCode.BadRequest, "invalid_tick_size")]
    [InlineData("{\"type\":\"oco\",\"legs\":[{\"symbol\":\"SOL-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"1\",\"price\":\"90\"},{\"symbol\":\"SOL-USDT\",\"side\":\"buy\",\"type\":\"stop\",\"quantity\":\"1\",\"triggerPrice\":\"99\"}]}", HttpStatusCode.UnprocessableEntity, "would_immediately_trigger")]
    [InlineData("{\"type\":\"oto\",\"primary\":{\"symbol\":\"SOL-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"1\",\"price\":\"90\"},\"secondary\":[]}", HttpStatusCode.BadRequest, "invalid_list")]
    [InlineData("{\"type\":\"bracket\",\"entry\":{\"symbol\":\"SOL-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"1\",\"price\":\"99\"},\"takeProfit\":{\"triggerPrice\":\"98\"},\"stopLoss\":{\"triggerPrice\":\"95\"}}", HttpStatusCode.BadRequest, "invalid_take_profit")]
    [InlineData("{\"type\":\"bracket\",\"entry\":{\"symbol\":\"SOL-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"1\",\"price\":\"99\"},\"takeProfit\":{\"triggerPrice\":\"110\"},\"stopLoss\":{\"triggerPrice\":\"99.5\"}}", HttpStatusCode.BadRequest, "invalid_stop_loss")]
    [InlineData("{\"type\":\"bracket\",\"entry\":{\"symbol\":\"SOL-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"1\",\"price\":\"99\"},\"takeProfit\":{\"triggerPrice\":\"110\"}}", HttpStatusCode.BadRequest, "invalid_stop_loss")]
    [InlineData("{\"type\":\"bracket\",\"entry\":{\"symbol\":\"SOL-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"1\",\"price\":\"99\"},\"takeProfit\":{\"price\":\"110\"},\"stopLoss\":{\"triggerPrice\":\"95\"}}", HttpStatusCode.BadRequest, "invalid_take_profit")]
    [InlineData("{\"type\":\"bracket\",\"entry\":{\"symbol\":\"SOL-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"1\",\"price\":\"100\"},\"takeProfit\":{\"triggerPrice\":\"110\"},\"stopLoss\":{\"triggerPrice\":\"80\"}}", HttpStatusCode.UnprocessableEntity, "stop_beyond_liquidation")]
    [InlineData("{\"type\":\"straddle\",\"symbol\":\"SOL-USDT\",\"quantity\":\"1\",\"above\":{\"triggerPrice\":\"95\"},\"below\":{\"triggerPrice\":\"105\"}}", HttpStatusCode.BadRequest, "invalid_trigger_price")]
    [InlineData("{\"type\":\"straddle\",\"symbol\":\"SOL-USDT\",\"quantity\":\"1\",\"above\":{\"triggerPrice\":\"105\"},\"below\":{\"triggerPrice\":\"95\"},\"takeProfit\":{\"distance\":\"1.5\"}}", HttpStatusCode.BadRequest, "invalid_distance")]
    [InlineData("{\"type\":\"straddle\",\"symbol\":\"DOGE-USDT\",\"quantity\":\"1\",\"above\":{\"triggerPrice\":\"105\"},\"below\":{\"triggerPrice\":\"95\"}}", HttpStatusCode.BadRequest, "unknown_symbol")]
    [InlineData("{\"type\":\"straddle\",\"symbol\":\"SOL-USDT\",\"quantity\":\"1\",\"above\":{\"triggerPrice\":\"99\"},\"below\":{\"triggerPrice\":\"95\"}}", HttpStatusCode.UnprocessableEntity, "would_immediately_trigger")]
    [InlineData("{\"type\":\"oco\",\"legs\":[", HttpStatusCode.BadRequest, "malformed_json")]
    public async Task PlaceList_Invalid_ReturnsErrorAndCreatesNothing(string body, HttpStatusCode status, string code)
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("SOL-USDT", "100");
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);

        (await PlaceList(t, body)).Problem(status, code);

        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
    }
}
