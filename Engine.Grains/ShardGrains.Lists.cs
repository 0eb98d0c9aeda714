using Engine.Grains.Accounts;
using Engine.Grains.Common;
using Engine.Grains.Events;
using Engine.Grains.Instruments;
using Engine.Grains.Margin;
using Engine.Grains.Orders;

namespace Engine.Grains;

public sealed partial class ShardGrains
{
    private CommandResult Decide(PlaceOrderList c)
    {
        if (!TryAccount(c.Account, out var account, out var rejected)) return rejected;
        var r = c.Request;
        var key = r.ClientOrderId is { } cid ? ListKey(cid) : null;
        if (SeenClientId(account, r.ClientOrderId, key, c.BodyHash, static (_, a, n) => ListId.For(a.Id, n)) is { } seen) return seen;

        var built = r.Type switch
        {
            OrderListType.Oco => BuildOco(account, r),
            OrderListType.Oto => BuildOto(account, r),
            OrderListType.Bracket => BuildBracket(account, r),
            OrderListType.Straddle => BuildStraddle(account, r),
            _ => (null, Rejection.Invalid("invalid_list_type", "unknown list type")),
        };
        if (built.Rejection is { } refused) return Reject(refused);
        var specs = built.Specs!;
        if (CheckList(account, specs) is { } no) return Reject(no);
        return Ok(AcceptList(account, r.Type, specs, r.ClientOrderId, c.BodyHash));
    }

    /// <summary>
    /// Every member that waits or executes now is checked as a standalone order would be (a price band
    /// that clamps rewrites the member).
    /// </summary>
    private Rejection? CheckList(Account account, List<OrderSpec> specs)
    {
        for (var i = 0; i < specs.Count; i++)
        {
            var spec = specs[i];
            var bucket = account.FindBucket(spec.Bucket)!;
            if (Blocked(account, bucket, spec) is { } blocked) return blocked;
            if (Band(ref spec) is { } outOfBand) return outOfBand;
            specs[i] = spec;
            if (CheckPlacement(account, bucket, InstrumentOf(spec.Symbol), spec) is { } no) return no;
        }

        return null;
    }

    /// <summary>Emits a checked list and its members, then starts them. The list's id is <see cref="NextListId"/>.</summary>
    private ListId AcceptList(Account account, OrderListType type, List<OrderSpec> specs, string? clientOrderId, string? bodyHash)
    {
        var listId = NextListId(account);
        Emit(new OrderListAccepted(listId, type, specs.Select(s => s.Number).ToArray(), clientOrderId, bodyHash) { At = _now, Account = account.Id });
        foreach (var spec in specs)
        {
            var (status, phase) = InitialState(spec);
            Emit(new OrderAccepted(spec with { List = listId }, status, phase) { At = _now, Account = account.Id });
        }

        // Start in acceptance order: an entry that fills at once arms its exits.
        foreach (var spec in specs)
            if (_orders[spec.Number] is { IsLive: true, Phase: not OrderPhase.Pending } order)
                Start(order);
        return listId;
    }

    private static ListId NextListId(Account account) => ListId.For(account.Id, account.ListCount + 1);

    /// <summary>Lists share the client-id table with orders; '#' cannot start a valid client id, so the keys never collide.</summary>
    internal static string ListKey(string clientOrderId) => "#" + clientOrderId;

    private (List<OrderSpec>? Specs, Rejection? Rejection) Member(Account account, OrderListRequest list, OrderRequest? r, long number, string what)
    {
        if (r is null) return (null, Rejection.Invalid("invalid_list", $"{what} is required"));
        if (r.ClientOrderId is not null)
            return (null, Rejection.Invalid("invalid_client_order_id", "members of a list take no clientOrderId; give it on the list"));
        var request = r.Bucket is null && list.Bucket is not null ? r with { Bucket = list.Bucket } : r;
        if (Validate(account, request, out var bucket, out _) is { } bad) return (null, bad with { Detail = $"{what}: {bad.Detail}" });
        return ([ToSpec(request, bucket.Id, number)], null);
    }

    private (List<OrderSpec>? Specs, Rejection? Rejection) BuildOco(Account account, OrderListRequest r)
    {
        if (r.Legs is not { Count: 2 } legs) return (null, Rejection.Invalid("invalid_list", "an oco list has exactly two legs"));
        var n = NextOrderNumber;
        var a = Member(account, r, legs[0], n, "legs[0]");
        if (a.Rejection is not null) return a;
        var b = Member(account, r, legs[1], n + 1, "legs[1]");
        if (b.Rejection is not null) return b;
        var first = a.Specs![0];
        var second = b.Specs![0];
        if (first.Type == OrderType.Market || second.Type == OrderType.Market)
            return (null, Rejection.Invalid("invalid_list", "oco legs wait: use limit or conditional orders"));
        if (first.Symbol != second.Symbol || first.Bucket != second.Bucket)
            return (null, Rejection.Invalid("invalid_list", "oco legs share one symbol and one bucket"));
        return ([first with { OcoSibling = second.Number }, second with { OcoSibling = first.Number }], null);
    }

    private (List<OrderSpec>? Specs, Rejection? Rejection) BuildOto(Account account, OrderListRequest r)
    {
        if (r.Secondary is not { Count: > 0 and <= 10 } secondaries)
            return (null, Rejection.Invalid("invalid_list", "an oto list has 1 to 10 secondary orders"));
        var n = NextOrderNumber;
        var primary = Member(account, r, r.Primary, n, "primary");
        if (primary.Rejection is not null) return primary;
        var specs = new List<OrderSpec>(primary.Specs!);
        for (var i = 0; i < secondaries.Count; i++)
        {
            var s = Member(account, r, secondaries[i], n + 1 + i, $"secondary[{i}]");
            if (s.Rejection is not null) return s;
            specs.Add(s.Specs![0] with { Parent = n });
        }

        return (specs, null);
    }

    private (List<OrderSpec>? Specs, Rejection? Rejection) BuildBracket(Account account, OrderListRequest r)
    {
        var n = NextOrderNumber;
        var entryResult = Member(account, r, r.Entry, n, "entry");
        if (entryResult.Rejection is not null) return entryResult;
        var entry = entryResult.Specs![0];
        if (entry.ReduceOnly || entry.ClosePosition || entry.Type == OrderType.TrailingStop)
            return (null, Rejection.Invalid("invalid_list", "a bracket entry opens a position: no reduceOnly, closePosition or trailing stop"));
        if (r.TakeProfit is not { } tp) return (null, Rejection.Invalid("invalid_take_profit", "takeProfit is required"));
        if (r.StopLoss is not { } sl) return (null, Rejection.Invalid("invalid_stop_loss", "stopLoss is required"));
        var instrument = InstrumentOf(entry.Symbol);
        foreach (var (exit, name) in new[] { (tp, "takeProfit"), (sl, "stopLoss") })
        {
            if (PriceProblem(instrument, exit.TriggerPrice, name + ".triggerPrice") is { } bad) return (null, bad);
            if (exit.Price is { } p && PriceProblem(instrument, p, name + ".price") is { } badPrice) return (null, badPrice);
        }

        var reference = entry.Price ?? entry.TriggerPrice ?? QuoteOf(entry.Symbol).Index;
        var up = entry.Side == OrderSide.Buy;
        if (reference is { } refPrice)
        {
            if (up ? tp.TriggerPrice <= refPrice : tp.TriggerPrice >= refPrice)
                return (null, Rejection.Invalid("invalid_take_profit", $"the take-profit must be {(up ? "above" : "below")} the entry price {refPrice}"));
            if (up ? sl.TriggerPrice >= refPrice : sl.TriggerPrice <= refPrice)
                return (null, Rejection.Invalid("invalid_stop_loss", $"the stop-loss must be {(up ? "below" : "above")} the entry price {refPrice}"));
            var bucket = account.FindBucket(entry.Bucket)!;
            var liq = EstimatedLiquidationPrice(instrument, entry.Side, refPrice, LeverageOf(bucket, entry.Symbol));
            if (liq is { } l && (up ? sl.TriggerPrice <= l : sl.TriggerPrice >= l))
                return (null, Rejection.Business("stop_beyond_liquidation", $"the stop-loss {sl.TriggerPrice} is at or beyond the entry's liquidation price {l}"));
        }

        var exitSide = entry.Side.Opposite();
        var takeProfit = Exit(entry, n + 1, exitSide, tp.Price is null ? OrderType.TakeProfit : OrderType.TakeProfitLimit, tp.TriggerPrice, tp.Price, null) with { OcoSibling = n + 2 };
        var stopLoss = Exit(entry, n + 2, exitSide, sl.Price is null ? OrderType.Stop : OrderType.StopLimit, sl.TriggerPrice, sl.Price, null) with { OcoSibling = n + 1 };
        return ([entry, takeProfit, stopLoss], null);
    }

    private (List<OrderSpec>? Specs, Rejection? Rejection) BuildStraddle(Account account, OrderListRequest r)
    {
        if (r.Symbol is not { } symbol) return (null, Rejection.Invalid("unknown_symbol", "symbol is required"));
        if (r.AboveTrigger is not { } above) return (null, Rejection.Invalid("invalid_trigger_price", "above.triggerPrice is required"));
        if (r.BelowTrigger is not { } below) return (null, Rejection.Invalid("invalid_trigger_price", "below.triggerPrice is required"));
        if (above <= below) return (null, Rejection.Invalid("invalid_trigger_price", "above.triggerPrice must be higher than below.triggerPrice"));
        foreach (var (d, name) in new[] { (r.TakeProfitDistance, "takeProfit"), (r.StopLossDistance, "stopLoss") })
            if (d is { } distance && (distance <= 0m || distance >= 1m))
                return (null, Rejection.Invalid("invalid_distance", $"{name}.distance must be a fraction between 0 and 1"));

        var n = NextOrderNumber;
        OrderRequest Side(OrderSide side, decimal trigger) => new()
        {
            Bucket = r.Bucket,
            Symbol = symbol,
            Side = side,
            Type = OrderType.Stop,
            Quantity = r.Quantity,
            TriggerPrice = trigger,
            TriggerBy = r.TriggerBy,
        };
        var buy = Member(account, r, Side(OrderSide.Buy, above), n, "above");
        if (buy.Rejection is not null) return buy;
        var sell = Member(account, r, Side(OrderSide.Sell, below), n + 1, "below");
        if (sell.Rejection is not null) return sell;
        var specs = new List<OrderSpec> { buy.Specs![0] with { OcoSibling = n + 1 }, sell.Specs![0] with { OcoSibling = n } };
        var next = n + 2;
        foreach (var entry in specs.ToArray())
            next = AddExitsFromFill(specs, entry, next, r.TakeProfitDistance, r.StopLossDistance);
        return (specs, null);
    }

    /// <summary>
    /// Appends <paramref name="entry"/>'s exits, armed when it fills at the given distances (fractions) from
    /// its fill price: a take-profit and a stop-loss as an OCO when both are given. Returns the next free number.
    /// </summary>
    private static long AddExitsFromFill(List<OrderSpec> specs, OrderSpec entry, long next, decimal? takeProfitDistance, decimal? stopLossDistance)
    {
        var exits = new List<OrderSpec>();
        if (takeProfitDistance is { } tpd)
            exits.Add(Exit(entry, next++, entry.Side.Opposite(), OrderType.TakeProfit, null, null, tpd));
        if (stopLossDistance is { } sld)
            exits.Add(Exit(entry, next++, entry.Side.Opposite(), OrderType.Stop, null, null, sld));
        if (exits.Count == 2)
        {
            exits[0] = exits[0] with { OcoSibling = exits[1].Number };
            exits[1] = exits[1] with { OcoSibling = exits[0].Number };
        }

        specs.AddRange(exits);
        return next;
    }

    private static OrderSpec Exit(OrderSpec entry, long number, OrderSide side, OrderType type, decimal? trigger, decimal? price, decimal? distance) => new()
    {
        Number = number,
        Bucket = entry.Bucket,
        Symbol = entry.Symbol,
        Side = side,
        Type = type,
        TriggerPrice = trigger,
        Price = price,
        TriggerBy = entry.TriggerBy,
        ReduceOnly = true,
        Parent = entry.Number,
        ParentDistance = distance,
        SizeFromParent = true,
    };

    /// <summary>Where a new isolated position of this side, entered at <paramref name="entry"/>, would be liquidated.</summary>
    internal static decimal? EstimatedLiquidationPrice(Instrument instrument, OrderSide side, decimal entry, int leverage)
    {
        var marginRate = 1m / leverage;
        return side == OrderSide.Buy
            ? LiquidationPrice(instrument, 1m, entry, Money.Round(entry * marginRate))
            : LiquidationPrice(instrument, -1m, entry, Money.Round(entry * marginRate));
    }
}
