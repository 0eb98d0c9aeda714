using Engine.Grains.Common;
using Engine.Grains.Events;
using Engine.Grains.Instruments;
using Engine.Grains.Margin;
using Engine.Grains.Orders;
using Engine.Grains.Pricing;

namespace Engine.Grains;

public sealed partial class ShardGrains
{
    /// <summary>What a fill does to its bucket, computed before it is emitted.</summary>
    private readonly record struct FillPlan(decimal Quantity, decimal Price, decimal Fee, decimal RealizedPnl);

    private void Evaluate(string symbol, TriggerSource source, decimal price)
    {
        if (!_books.TryGetValue((symbol, source), out var book) || book.Count == 0) return;
        var fires = book.BeginEvaluation(price, out var moves);
        if (moves != TrailingMoves.None) RecordTrailingMoves(symbol, source, moves, price);
        if (!fires) return;
        try
        {
            // Each fired order is acted on as soon as the book knows it, not after the book has taken out
            // everything the price fired: a tick that fires a hundred orders triggers its first one in
            // microseconds. What the orders add to this book meanwhile waits for its next price.
            while (book.TryNextFired(out var key)) OnFired(key, price);
        }
        finally
        {
            book.CompleteEvaluation();
        }
    }

    private void OnFired(long key, decimal price)
    {
        if (key < 0)
        {
            // A fill earlier in this tick may have increased, reduced or flipped the position: its
            // level fired at the old liquidation price, so liquidate only if the current one is reached.
            if (_positionsByKey.TryGetValue(-key, out var position) && position.LiquidationPrice is { } liq
                && (position.Quantity > 0 ? price <= liq : price >= liq))
                Liquidate(position, price);
            return;
        }

        if (!_orders.TryGetValue(key, out var order) || !order.IsLive) return;
        switch (order.Phase)
        {
            case OrderPhase.AwaitingActivation:
                Emit(new TrailingStopActivated(order.Number, price) { At = _now, Account = order.Account });
                break;
            case OrderPhase.Waiting when order.Spec.TriggerConfirmation is not null:
                BeginConfirmation(order, price);
                break;
            case OrderPhase.Waiting or OrderPhase.Trailing:
                Trigger(order, price);
                break;
            case OrderPhase.Resting:
                FillResting(order);
                break;
        }
    }

    /// <summary>The order's condition holds at <paramref name="price"/>: it fires, its OCO sibling is cancelled, it executes.</summary>
    private void Trigger(Order order, decimal price)
    {
        Emit(new OrderTriggered(order.Number, price) { At = _now, Account = order.Account });
        CancelSibling(order);
        if (!order.IsLive) return;
        if (order.Phase == OrderPhase.Executing) ExecuteMarket(order);
        else ExecuteLimitIfMarketable(order);
    }

    private void ExecuteMarket(Order order)
    {
        var instrument = InstrumentOf(order.Symbol);
        var quantity = OrderQuantity(order);
        if (Venue.MarketFillPrice(instrument, order.Side, quantity, QuoteOf(order.Symbol)) is not { } price)
        {
            Finish(order, new OrderRejected(order.Number, OrderReasons.NoPrice) { At = _now, Account = order.Account });
            return;
        }

        FillOrReject(order, instrument, price, instrument.TakerFeeRate, Liquidity.Taker);
    }

    /// <summary>A limit order that the index already crosses fills now as a taker; one that does not rests (or expires if IOC/FOK).</summary>
    private void ExecuteLimitIfMarketable(Order order)
    {
        var instrument = InstrumentOf(order.Symbol);
        if (MarketableFillPrice(instrument, order.Side, order.Price!.Value, OrderQuantity(order), QuoteOf(order.Symbol)) is { } price)
        {
            FillOrReject(order, instrument, price, instrument.TakerFeeRate, Liquidity.Taker);
            return;
        }

        if (order.Spec.TimeInForce is TimeInForce.Ioc or TimeInForce.Fok)
        {
            var reason = order.Spec.TimeInForce == TimeInForce.Ioc ? OrderReasons.IocNotFilled : OrderReasons.FokNotFilled;
            Finish(order, new OrderExpired(order.Number, reason) { At = _now, Account = order.Account });
        }
    }

    /// <summary>A resting limit reached by the index fills at its own price as a maker.</summary>
    private void FillResting(Order order)
    {
        var instrument = InstrumentOf(order.Symbol);
        FillOrReject(order, instrument, order.Price!.Value, instrument.MakerFeeRate, Liquidity.Maker);
    }

    /// <summary>The taker fill price of a limit order the index crosses (never worse than the limit), or null.</summary>
    private decimal? MarketableFillPrice(Instrument instrument, OrderSide side, decimal limit, decimal quantity, Quote quote)
    {
        if (quote.Index is not { } index) return null;
        var crosses = side == OrderSide.Buy ? index <= limit : index >= limit;
        if (!crosses) return null;
        var market = Venue.MarketFillPrice(instrument, side, quantity, quote) ?? index;
        return side == OrderSide.Buy ? Math.Min(limit, market) : Math.Max(limit, market);
    }

    private decimal OrderQuantity(Order order)
    {
        if (!order.Spec.ClosePosition) return order.Quantity - order.FilledQuantity;
        var bucket = AccountOf(order.Account).FindBucket(order.Bucket)!;
        return bucket.Positions.TryGetValue(order.Symbol, out var p) ? Math.Abs(p.Quantity) : 0m;
    }

    private void FillOrReject(Order order, Instrument instrument, decimal price, decimal feeRate, Liquidity liquidity)
    {
        var bucket = AccountOf(order.Account).FindBucket(order.Bucket)!;
        if (PlanFill(bucket, instrument, order.Spec, OrderQuantity(order), price, feeRate, out var plan) is { } reason)
        {
            AccountEvent finish = reason == OrderReasons.NoPosition
                ? new OrderCancelled(order.Number, OrderReasons.PositionClosed) { At = _now, Account = order.Account }
                : new OrderRejected(order.Number, reason) { At = _now, Account = order.Account };
            Finish(order, finish);
            return;
        }

        Emit(new OrderFilled(order.Number, NextFillNumber, plan.Quantity, plan.Price, plan.Fee, plan.RealizedPnl, liquidity) { At = _now, Account = order.Account });
        AfterFill(order);
    }

    /// <summary>
    /// Sizes and prices a fill against the bucket: reduce-only and close-position orders are clipped
    /// to the opposite position, and the opening part needs initial margin (notional / leverage) plus
    /// the fee from what the bucket has available after the closing part. Returns a reason on refusal.
    /// </summary>
    private string? PlanFill(Bucket bucket, Instrument instrument, OrderSpec spec, decimal requested, decimal price, decimal feeRate, out FillPlan plan, int? leverage = null)
    {
        plan = default;
        bucket.Positions.TryGetValue(spec.Symbol, out var position);
        var held = position?.Quantity ?? 0m;
        var opposite = held != 0m && Math.Sign(held) == -spec.Side.Sign();
        var quantity = requested;
        if (spec.ReduceOnly || spec.ClosePosition)
        {
            if (!opposite) return spec.ClosePosition ? OrderReasons.NoPosition : OrderReasons.ReduceOnlyWouldIncrease;
            quantity = spec.ClosePosition ? Math.Abs(held) : Math.Min(requested, Math.Abs(held));
        }

        if (quantity <= 0m) return OrderReasons.NoPosition;
        var closing = opposite ? Math.Min(quantity, Math.Abs(held)) : 0m;
        var opening = quantity - closing;
        var realized = closing * (price - (position?.EntryPrice ?? 0m)) * Math.Sign(held);
        var fee = Money.Round(quantity * price * feeRate);
        var released = position is null || closing == 0m ? 0m : ReleasedMargin(position, closing);
        if (closing > 0m && realized - fee < -released)
        {
            // Isolated margin: closing a position never costs more than the margin it held, however far
            // the fill gapped past the bankruptcy price (as with liquidation); the bucket absorbs no more.
            realized = Math.Max(realized, -released);
            if (opening == 0m) fee = Math.Max(0m, released + realized);
        }

        if (opening > 0m)
        {
            var needed = Money.Round(opening * price / (leverage ?? LeverageOf(bucket, spec.Symbol)));
            if (bucket.Available + released + realized - fee < needed) return OrderReasons.InsufficientMargin;
        }

        plan = new FillPlan(quantity, price, fee, realized);
        return null;
    }

    private static decimal ReleasedMargin(Position position, decimal closing) =>
        closing >= Math.Abs(position.Quantity) ? position.Margin : Money.Round(position.Margin * closing / Math.Abs(position.Quantity));

    /// <summary>After a fill: a complete fill cancels its OCO sibling and arms its children; a flat position cancels its exits.</summary>
    private void AfterFill(Order order)
    {
        if (order.Status == OrderStatus.Filled)
        {
            CancelSibling(order);
            ActivateChildren(order);
        }

        var bucket = AccountOf(order.Account).FindBucket(order.Bucket)!;
        if (!bucket.Positions.ContainsKey(order.Symbol)) CancelExits(order.Account, order.Bucket, order.Symbol);
    }

    private void ActivateChildren(Order parent)
    {
        if (!_children.TryGetValue(parent.Number, out var children)) return;
        var instrument = InstrumentOf(parent.Symbol);
        foreach (var number in children.ToArray())
        {
            if (!_orders.TryGetValue(number, out var child) || child.Phase != OrderPhase.Pending) continue;
            var quantity = child.Spec.SizeFromParent ? parent.FilledQuantity : child.Quantity;
            var trigger = child.TriggerPrice;
            if (child.Spec.ParentDistance is { } distance)
            {
                var sign = child.FireDirection == TriggerDirection.Rise ? 1m : -1m;
                trigger = instrument.RoundToTick(parent.AverageFillPrice * (1m + sign * distance));
            }

            var phase = InitialState(child.Spec with { Parent = null }).Phase;
            Emit(new OrderActivated(number, quantity, trigger, child.Price, phase) { At = _now, Account = child.Account });
            if (child.IsLive) Start(child);
        }
    }

    private void CancelSibling(Order order)
    {
        if (order.Spec.OcoSibling is { } s && _orders.TryGetValue(s, out var sibling) && sibling.IsLive)
            Finish(sibling, new OrderCancelled(s, OrderReasons.OcoSiblingTriggered) { At = _now, Account = sibling.Account });
    }

    /// <summary>Ends an order that did not fill; its pending children can never arm, so they are cancelled too.</summary>
    private void Finish(Order order, AccountEvent terminal)
    {
        Emit(terminal);
        if (!_children.TryGetValue(order.Number, out var children)) return;
        foreach (var number in children.ToArray())
            if (_orders.TryGetValue(number, out var child) && child.Phase == OrderPhase.Pending)
                Finish(child, new OrderCancelled(number, OrderReasons.PrimaryNotFilled) { At = _now, Account = child.Account });
    }

    /// <summary>When a position is gone, its armed reduce-only and close-position orders have nothing left to protect.</summary>
    private void CancelExits(AccountId account, BucketId bucket, string symbol)
    {
        if (!_exits.TryGetValue((bucket, symbol), out var exits) || exits.Count == 0) return;
        foreach (var number in exits.OrderBy(n => n).ToArray())
            if (_orders.TryGetValue(number, out var o) && o.IsLive && o.Phase is not (OrderPhase.Pending or OrderPhase.Executing))
                Finish(o, new OrderCancelled(number, OrderReasons.PositionClosed) { At = _now, Account = account });
    }

    /// <summary>Closes a position whose margin is exhausted at mark <paramref name="price"/>; the loss never exceeds its margin.</summary>
    private void Liquidate(Position position, decimal price)
    {
        var owner = AccountOfBucket(position.Bucket);
        var pnl = position.Quantity * (price - position.EntryPrice);
        var realized = Math.Max(pnl, -position.Margin);
        Emit(new PositionLiquidated(position.Bucket, position.Symbol, NextFillNumber, position.Quantity, price, realized) { At = _now, Account = owner });
        CancelExits(owner, position.Bucket, position.Symbol);
    }

    private static AccountId AccountOfBucket(BucketId bucket) => new(bucket.Value[..bucket.Value.LastIndexOf("-b", StringComparison.Ordinal)]);

    /// <summary>
    /// The price at which margin plus unrealized PnL falls to the maintenance margin, rounded toward
    /// the position (a long is liquidated at or above the exact level). Null when it cannot be reached.
    /// </summary>
    internal static decimal? LiquidationPrice(Instrument instrument, decimal quantity, decimal entry, decimal margin)
    {
        if (quantity == 0m) return null;
        var size = Math.Abs(quantity);
        var mmr = instrument.MaintenanceMarginRate;
        if (quantity > 0)
        {
            var exact = (size * entry - margin) / (size * (1m - mmr));
            return exact <= 0m ? null : instrument.CeilToTick(exact);
        }

        var level = (size * entry + margin) / (size * (1m + mmr));
        return instrument.FloorToTick(level);
    }

    /// <summary>
    /// Journals trailing extremes that moved. Consecutive moves of one book and direction, with no
    /// other event between them, collapse into one: moving to a and then to b equals moving to the further.
    /// </summary>
    private void RecordTrailingMoves(string symbol, TriggerSource source, TrailingMoves moves, decimal price)
    {
        if ((moves & TrailingMoves.Fall) != 0) RecordMove(symbol, source, TriggerDirection.Fall, price);
        if ((moves & TrailingMoves.Rise) != 0) RecordMove(symbol, source, TriggerDirection.Rise, price);
    }

    private void RecordMove(string symbol, TriggerSource source, TriggerDirection direction, decimal price)
    {
        for (var i = _out.Count - 1; i >= 0 && _out[i] is TrailingExtremesMoved m; i--)
        {
            if (m.Symbol != symbol || m.Source != source || m.Direction != direction) continue;
            var further = direction == TriggerDirection.Fall ? Math.Max(m.Price, price) : Math.Min(m.Price, price);
            _out[i] = m with { Price = further, At = _now };
            return;
        }

        // Already applied by the book's evaluation: recorded for the journal only.
        _out.Add(new TrailingExtremesMoved(symbol, source, direction, price) { At = _now });
    }
}
