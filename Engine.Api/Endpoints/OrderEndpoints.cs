using Engine.Api.Contracts;
using Engine.Api.Http;
using Engine.Grains;
using Engine.Grains.Orders;
using Engine.Grains.Pricing;
using Engine.Grains.Risk;
using Engine.Silo.Runtime;

namespace Engine.Api.Endpoints;

public static class OrderEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var account = app.MapGroup("/v1/accounts/{accountId}").WithTags("Orders");

        account.MapPost("/orders", async (HttpContext http, EngineSilo silo, string accountId) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId);
            var body = await RequestBody.ReadAsync<OrderRequestBody>(http);
            var clientId = RequestBody.IdempotencyKey(http, body.ClientOrderId);
            var request = ToDomain(body with { ClientOrderId = clientId }, "");
            var command = new PlaceOrder(request, clientId is null ? null : RequestBody.HashOf(body with { ClientOrderId = clientId })) { Account = id };
            return await Send.CommandAsync(silo, command, 201, (g, r) => Views.Order(g, g.FindOrder(id, (long)r.Value!)!));
        })
        .Accepts<OrderRequestBody>("application/json")
        .Produces<OrderResponse>(201)
        .WithSummary("Places an order: market, limit, stop, stopLimit, takeProfit, takeProfitLimit or trailingStop.");

        account.MapPost("/order-lists", async (HttpContext http, EngineSilo silo, string accountId) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId);
            var body = await RequestBody.ReadAsync<OrderListRequestBody>(http);
            var clientId = RequestBody.IdempotencyKey(http, body.ClientOrderId);
            var request = ToDomain(body with { ClientOrderId = clientId });
            var command = new PlaceOrderList(request, clientId is null ? null : RequestBody.HashOf(body with { ClientOrderId = clientId })) { Account = id };
            return await Send.CommandAsync(silo, command, 201, (g, r) =>
            {
                var a = g.FindAccount(id)!;
                return Views.List(g, a, a.Lists[((ListId)r.Value!).Value]);
            });
        })
        .Accepts<OrderListRequestBody>("application/json")
        .Produces<OrderListResponse>(201)
        .WithSummary("Places an order list: oco, oto, bracket or straddle.");

        account.MapGet("/orders", async (HttpContext http, EngineSilo silo, string accountId, string? status, string? symbol, string? bucketId,
            string? after, int? limit) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId, operatorAllowed: true);
            if (status is not (null or "open" or "all")) throw new ProblemException(400, "invalid_status", "status must be open or all");
            if (limit is < 1 or > 1000) throw new ProblemException(400, "invalid_limit", "limit must be 1 to 1000");
            long afterNumber = 0;
            if (after is not null)
            {
                if (!OrderId.TryParse(after, out var parsed) || parsed.Value.Account != id)
                    throw new ProblemException(400, "invalid_after", "after must be an orderId of this account");
                afterNumber = parsed.Value.Number;
            }

            var all = status == "all";
            // With PostgreSQL, finished orders come from the history read model (all of them, paged); open ones always from the shard.
            var history = all ? silo.History : null;
            var live = await silo.QueryAsync(id, g =>
            {
                if (g.FindAccount(id) is not { } a) return null;
                var numbers = all && history is null ? a.LiveOrders.Concat(a.RecentDoneOrders) : a.LiveOrders;
                return numbers.Where(n => n > afterNumber).Distinct().Order()
                    .Select(n => g.FindOrder(id, n)).OfType<Order>()
                    .Where(o => (symbol is null || o.Symbol == symbol) && (bucketId is null || o.Bucket.Value == bucketId))
                    .Take(limit ?? int.MaxValue)
                    .Select(o => (o.Number, View: Views.Order(g, o))).ToArray();
            });
            if (live is null) return Problems.NotFound("account not found");
            if (history is null) return Results.Json(live.Select(o => o.View).ToArray(), ApiJson.Options);

            var take = limit ?? 1000;
            await silo.CatchUpHistoryAsync(id, http.RequestAborted);
            var finished = await history.FinishedOrdersAsync(id, symbol, bucketId, afterNumber, take, http.RequestAborted);
            var merged = live.Concat(finished.Select(o => (o.Number, View: Views.Order(null, o))))
                .OrderBy(o => o.Number).Take(take).Select(o => o.View).ToArray();
            return Results.Json(merged, ApiJson.Options);
        })
        .Produces<OrderResponse[]>()
        .WithSummary("Open orders (untriggered or resting), or with status=all also finished ones (every one with PostgreSQL, else the recent ones); "
            + "oldest first, paged with after = the last orderId seen and limit (1 to 1000; with status=all 1000 by default).");

        account.MapGet("/orders/{orderId}", async (HttpContext http, EngineSilo silo, string accountId, string orderId) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId, operatorAllowed: true);
            var number = OrderNumber(id, orderId);
            var view = await silo.QueryAsync(id, g => g.FindOrder(id, number) is { } o ? Views.Order(g, o) : null);
            return view is null ? Problems.NotFound("order not found") : Results.Json(view, ApiJson.Options);
        })
        .Produces<OrderResponse>()
        .WithSummary("One order.");

        account.MapPatch("/orders/{orderId}", async (HttpContext http, EngineSilo silo, string accountId, string orderId) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId);
            var number = OrderNumber(id, orderId);
            var body = await RequestBody.ReadAsync<AmendOrderRequest>(http);
            var command = new AmendOrder(number, body.Quantity, body.Price, body.TriggerPrice, body.CallbackRate) { Account = id };
            return await Send.CommandAsync(silo, command, 200, (g, _) => Views.Order(g, g.FindOrder(id, number)!),
                RequestBody.IdempotencyKey(http, null), RequestBody.Scoped(http, body));
        })
        .Accepts<AmendOrderRequest>("application/json")
        .Produces<OrderResponse>()
        .WithSummary("Amends a waiting or resting order's quantity, price, trigger price or callback rate.");

        account.MapDelete("/orders/{orderId}", async (HttpContext http, EngineSilo silo, string accountId, string orderId) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId);
            var number = OrderNumber(id, orderId);
            return await Send.CommandAsync(silo, new CancelOrder(number) { Account = id }, 200, (g, _) => Views.Order(g, g.FindOrder(id, number)!),
                RequestBody.IdempotencyKey(http, null), RequestBody.Scoped(http, null));
        })
        .Produces<OrderResponse>()
        .WithSummary("Cancels an order; answers it with status cancelled.");

        account.MapDelete("/orders", async (HttpContext http, EngineSilo silo, string accountId, string? symbol, string? bucketId) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId);
            var command = new CancelOrders(symbol, bucketId is null ? null : new BucketId(bucketId)) { Account = id };
            return await Send.CommandAsync(silo, command, 200, (_, r) => new CancelledCountResponse((int)r.Value!),
                RequestBody.IdempotencyKey(http, null), RequestBody.Scoped(http, http.Request.QueryString.Value));
        })
        .Produces<CancelledCountResponse>()
        .WithSummary("Cancels every open order, optionally only of a symbol or a bucket.");

        account.MapPost("/buckets/{bucketId}/positions/{symbol}/close", async (HttpContext http, EngineSilo silo, string accountId, string bucketId, string symbol) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId);
            var command = new ClosePosition(new BucketId(bucketId), symbol) { Account = id };
            var key = RequestBody.IdempotencyKey(http, null);
            return await Send.CommandAsync(silo, command, 201, (g, r) => Views.Order(g, g.FindOrder(id, (long)r.Value!)!), key, RequestBody.Scoped(http, null));
        })
        .Produces<OrderResponse>(201)
        .WithSummary("Closes a position with a reduce-only market order; answers the closing order.");
    }

    private static long OrderNumber(AccountId account, string orderId) =>
        OrderId.TryParse(orderId, out var parsed) && parsed.Value.Account == account
            ? parsed.Value.Number
            : throw new ProblemException(404, "not_found", "order not found");

    internal static OrderRequest ToDomain(OrderRequestBody b, string path)
    {
        var prefix = path.Length == 0 ? "" : path + ".";
        if (string.IsNullOrEmpty(b.Symbol)) throw new ProblemException(400, "unknown_symbol", $"{prefix}symbol is required");
        if (b.Side is not { } side) throw new ProblemException(400, "invalid_side", $"{prefix}side is required: buy or sell");
        if (b.Type is not { } type) throw new ProblemException(400, "invalid_type", $"{prefix}type is required");
        return new OrderRequest
        {
            Bucket = b.BucketId is null ? null : new BucketId(b.BucketId),
            Symbol = b.Symbol,
            Side = side,
            Type = type,
            Quantity = b.Quantity,
            Price = b.Price,
            TriggerPrice = b.TriggerPrice,
            TriggerBy = b.TriggerBy ?? TriggerSource.Index,
            CallbackRate = b.CallbackRate,
            CallbackAmount = b.CallbackAmount,
            ActivationPrice = b.ActivationPrice,
            TimeInForce = b.TimeInForce ?? TimeInForce.Gtc,
            ExpireAt = b.ExpireAt,
            ReduceOnly = b.ReduceOnly ?? false,
            ClosePosition = b.ClosePosition ?? false,
            ClientOrderId = b.ClientOrderId,
            TriggerConfirmation = b.TriggerConfirmation is null ? null : Duration(b.TriggerConfirmation, "invalid_trigger_confirmation", $"{prefix}triggerConfirmation"),
            Fallback = b.Fallback is null ? null : Fallback(b.Fallback, prefix),
        };
    }

    private static TimeSpan Duration(string text, string code, string field) =>
        IsoDuration.TryParse(text, out var duration)
            ? duration
            : throw new ProblemException(400, code, $"{field} must be an ISO 8601 duration such as PT2S or PT1M30S (days, hours, minutes, seconds)");

    private static OrderFallback Fallback(FallbackBody f, string prefix)
    {
        var action = f.Action switch
        {
            "market" => FallbackAction.Market,
            "cancel" => FallbackAction.Cancel,
            _ => throw new ProblemException(400, "invalid_fallback", $"{prefix}fallback.action is required: market or cancel"),
        };
        var after = f.After is null ? (TimeSpan?)null : Duration(f.After, "invalid_fallback", $"{prefix}fallback.after");
        return new OrderFallback(after, f.WorstPrice, action);
    }

    private static OrderListRequest ToDomain(OrderListRequestBody b)
    {
        if (b.Type is not { } type) throw new ProblemException(400, "invalid_type", "type is required: oco, oto, bracket or straddle");
        return new OrderListRequest
        {
            Type = type,
            Bucket = b.BucketId is null ? null : new BucketId(b.BucketId),
            ClientOrderId = b.ClientOrderId,
            Legs = b.Legs?.Select((l, i) => ToDomain(l, $"legs[{i}]")).ToArray(),
            Primary = b.Primary is null ? null : ToDomain(b.Primary, "primary"),
            Secondary = b.Secondary?.Select((s, i) => ToDomain(s, $"secondary[{i}]")).ToArray(),
            Entry = b.Entry is null ? null : ToDomain(b.Entry, "entry"),
            TakeProfit = type == OrderListType.Bracket ? Exit(b.TakeProfit, "takeProfit") : null,
            StopLoss = type == OrderListType.Bracket ? Exit(b.StopLoss, "stopLoss") : null,
            Symbol = b.Symbol,
            Quantity = b.Quantity,
            AboveTrigger = b.Above?.TriggerPrice,
            BelowTrigger = b.Below?.TriggerPrice,
            TakeProfitDistance = type == OrderListType.Straddle ? b.TakeProfit?.Distance : null,
            StopLossDistance = type == OrderListType.Straddle ? b.StopLoss?.Distance : null,
            TriggerBy = b.TriggerBy ?? TriggerSource.Index,
        };
    }

    private static ExitRequest? Exit(ExitBody? exit, string name)
    {
        if (exit is null) return null;
        if (exit.TriggerPrice is not { } trigger)
            throw new ProblemException(400, name == "takeProfit" ? "invalid_take_profit" : "invalid_stop_loss", $"{name}.triggerPrice is required");
        return new ExitRequest(trigger, exit.Price);
    }
}
