using Engine.Grains.Accounts;
using Engine.Grains.Common;
using Engine.Grains.Events;
using Engine.Grains.Margin;
using Engine.Grains.Orders;
using Engine.Grains.Pricing;

namespace Engine.Grains;

public sealed partial class ShardGrains
{
    /// <summary>
    /// Changes state by one event. Cannot fail for an event that <see cref="Execute"/> or the price
    /// path produced; replaying the journal calls only this.
    /// </summary>
    public void Apply(EngineEvent e)
    {
        if (e is TrailingExtremesMoved moved)
        {
            Book(moved.Symbol, moved.Source).MoveTrailingExtremes(moved.Direction, moved.Price);
            return;
        }

        if (e is SymbolHalted or SymbolResumed)
        {
            ApplySymbolHalt(e);
            return;
        }

        var ae = (AccountEvent)e;
        if (ae is AccountOpened opened)
        {
            var created = new Account(ae.Account, opened.Name, opened.ApiKeyHash) { ManualBucket = opened.ManualBucket, BucketCount = 1 };
            created.Buckets.Add(new Bucket(opened.ManualBucket, "manual", BucketKind.Manual));
            _accounts[ae.Account] = created;
            Record(created, ae);
            return;
        }

        var account = AccountOf(ae.Account);
        switch (ae)
        {
            case FundsDeposited d:
                account.WalletBalance += d.Amount;
                break;
            case FundsWithdrawn w:
                account.WalletBalance -= w.Amount;
                break;
            case BucketCreated b:
                account.BucketCount++;
                account.WalletBalance -= b.Allocation;
                account.Buckets.Add(new Bucket(b.Bucket, b.Name, b.Kind) { Balance = b.Allocation });
                break;
            case FundsTransferred t:
            {
                var bucket = account.FindBucket(t.Bucket)!;
                var signed = t.Direction == TransferDirection.In ? t.Amount : -t.Amount;
                bucket.Balance += signed;
                account.WalletBalance -= signed;
                // A transfer is not a gain or a loss of the day.
                if (bucket.DailyLossLimit is not null) bucket.LossBaseline += signed;
                break;
            }

            case LeverageSet l:
                account.FindBucket(l.Bucket)!.Leverage[l.Symbol] = l.Leverage;
                break;
            case IdempotentResponseRecorded i:
                account.Idempotency[i.Key] = new IdempotentResponse(i.BodyHash, i.Status, i.Body);
                account.IdempotencyOrder.Enqueue(i.Key);
                while (account.IdempotencyOrder.Count > Options.ClientIdHistory)
                    account.Idempotency.Remove(account.IdempotencyOrder.Dequeue());
                break;
            case OrderListAccepted list:
                account.ListCount++;
                account.Lists[list.List.Value] = new OrderList(list.List, list.ListType, list.Orders, list.ClientOrderId, list.BodyHash);
                if (list.ClientOrderId is { } lcid) RememberClientId(account, ListKey(lcid), account.ListCount, list.BodyHash);
                break;
            case OrderAccepted a:
                // A million resting orders must not carry a million copies of a few strings: events that
                // arrive deserialized (replay) or parsed (HTTP) are pointed at the shared symbol and bucket id.
                ae = a = Canonical(account, a);
                ApplyAccepted(account, a);
                break;
            case OrderActivated act:
            {
                var order = _orders[act.Order];
                order.Activate(act.Quantity, act.TriggerPrice, act.Price, act.Phase, ae.At);
                Index(order);
                break;
            }

            case TrailingStopActivated ts:
            {
                var order = _orders[ts.Order];
                Unindex(order);
                order.EnterPhase(OrderPhase.Trailing, ae.At);
                Book(order.Symbol, order.Spec.TriggerBy).AddTrailing(order.Number, order.FireDirection, order.CallbackRate, order.CallbackAmount, ts.Extreme);
                break;
            }

            case OrderTriggered tr:
            {
                var order = _orders[tr.Order];
                Unindex(order);
                order.Trigger(tr.Price, ae.At);
                // A triggered limit type rests in the index book; anything else executes now.
                if (order.Phase == OrderPhase.Resting) Index(order);
                break;
            }

            case OrderFilled f:
                ApplyFill(account, f);
                break;
            case OrderAmended am:
            {
                var order = _orders[am.Order];
                // Read the extreme before Unindex removes the trailing entry, or it would be lost.
                var extreme = order.Phase == OrderPhase.Trailing ? Book(order.Symbol, order.Spec.TriggerBy).TrailingExtreme(order.Number) : null;
                // Likewise a running trigger confirmation (an amended quantity or limit does not restart it).
                var confirming = order.Phase == OrderPhase.Confirming && _confirming.TryGetValue(order.Number, out var c) ? c : (Confirmation?)null;
                Unindex(order);
                order.Amend(am.Quantity, am.Price, am.TriggerPrice, am.CallbackRate, am.CallbackAmount, ae.At);
                if (extreme is { } x)
                    Book(order.Symbol, order.Spec.TriggerBy).AddTrailing(order.Number, order.FireDirection, order.CallbackRate, order.CallbackAmount, x);
                else if (confirming is { } running)
                    StartConfirmation(order.Number, running);
                else
                    Index(order);
                break;
            }

            case OrderCancelled c:
                Close(account, _orders[c.Order], OrderStatus.Cancelled, c.Reason, ae.At);
                break;
            case OrderExpired x:
                Close(account, _orders[x.Order], OrderStatus.Expired, x.Reason, ae.At);
                break;
            case OrderRejected r:
                Close(account, _orders[r.Order], OrderStatus.Rejected, r.Reason, ae.At);
                break;
            case PositionLiquidated liq:
                ApplyLiquidation(account, liq);
                break;
            case PlanEvent plan:
                ApplyPlan(account, plan);
                break;
            case CopyEvent copy:
                ApplyCopy(account, copy);
                break;
            default:
                ApplyRisk(account, ae);
                break;
        }

        if (_plans.Count != 0) ObservePlans(account, ae);
        Record(account, ae);
    }

    /// <summary>A rising level every positive price reaches, and a falling one every valid price reaches.</summary>
    private const decimal AnyPriceRises = 0.0000000000000000000000000001m;
    private const decimal AnyPriceFalls = decimal.MaxValue;

    private OrderAccepted Canonical(Account account, OrderAccepted a)
    {
        var symbol = InstrumentOf(a.Order.Symbol).Symbol;
        var bucket = account.FindBucket(a.Order.Bucket)?.Id ?? a.Order.Bucket;
        return ReferenceEquals(symbol, a.Order.Symbol) && ReferenceEquals(bucket.Value, a.Order.Bucket.Value)
            ? a
            : a with { Order = a.Order with { Symbol = symbol, Bucket = bucket } };
    }

    private void ApplyAccepted(Account account, OrderAccepted a)
    {
        var spec = a.Order;
        var order = new Order(account.Id, spec, a.Status, a.Phase, a.At);
        _orders[spec.Number] = order;
        account.LiveOrders.Add(order);
        NextOrderNumber = Math.Max(NextOrderNumber, spec.Number + 1);
        if (spec.ClientOrderId is { } cid) RememberClientId(account, cid, spec.Number, a.BodyHash);
        if (spec.Parent is { } parent)
        {
            if (!_children.TryGetValue(parent, out var list)) _children[parent] = list = [];
            list.Add(spec.Number);
        }

        if (IsWaitingExit(spec))
        {
            if (!_exits.TryGetValue((spec.Bucket, spec.Symbol), out var set)) _exits[(spec.Bucket, spec.Symbol)] = set = [];
            set.Add(spec.Number);
        }

        if (spec.ExpireAt is { } expiry) _expiries.Enqueue(spec.Number, expiry);
        Index(order);
    }

    /// <summary>
    /// An order <see cref="CancelExits"/> ends when its position is gone: a reduce-only or close-position
    /// order that can wait. A market one executes in the command that makes it live (or its parent's), so
    /// it is never indexed: closing a follower's copy in a fan-out builds no index entry.
    /// </summary>
    private static bool IsWaitingExit(OrderSpec spec) => (spec.ReduceOnly || spec.ClosePosition) && spec.Type != OrderType.Market;

    /// <summary>Puts a waiting order into the book its phase calls for.</summary>
    private void Index(Order order)
    {
        switch (order.Phase)
        {
            case OrderPhase.Waiting:
                Book(order.Symbol, order.Spec.TriggerBy).AddLevel(order.Number, order.FireDirection, order.TriggerPrice!.Value);
                break;
            case OrderPhase.AwaitingActivation:
            {
                // Without an activation price it trails from the first price its source shows: a level
                // that any price satisfies (usually its activation follows at once, in the same command).
                var direction = OrderRules.ActivationDirection(order.Side);
                var level = order.Spec.ActivationPrice ?? (direction == TriggerDirection.Rise ? AnyPriceRises : AnyPriceFalls);
                Book(order.Symbol, order.Spec.TriggerBy).AddLevel(order.Number, direction, level);
                break;
            }
            case OrderPhase.Resting:
                Book(order.Symbol, TriggerSource.Index).AddLevel(order.Number, OrderRules.RestingDirection(order.Side), order.Price!.Value);
                if (order.Spec.Fallback is not null && order.TriggeredAt is not null) WatchFallback(order);
                break;
        }
    }

    private void Unindex(Order order)
    {
        switch (order.Phase)
        {
            case OrderPhase.Waiting or OrderPhase.AwaitingActivation or OrderPhase.Trailing:
                if (_books.TryGetValue((order.Symbol, order.Spec.TriggerBy), out var book)) book.Remove(order.Number);
                break;
            case OrderPhase.Resting:
                if (_books.TryGetValue((order.Symbol, TriggerSource.Index), out var index)) index.Remove(order.Number);
                if (order.Spec.Fallback is not null) UnwatchFallback(order);
                break;
            case OrderPhase.Confirming:
                EndConfirmation(order);
                break;
        }
    }

    private void Close(Account account, Order order, OrderStatus status, string reason, DateTimeOffset at)
    {
        Unindex(order);
        order.Finish(status, reason, at);
        Retire(account, order);
    }

    /// <summary>Drops a finished order from the live indexes and keeps it among the recent ones.</summary>
    private void Retire(Account account, Order order)
    {
        account.LiveOrders.Remove(order);
        // A parent's children list must outlive the parent's own fill or cancel: the execution path
        // arms or cancels its pending children right after that event is applied. Each child leaves
        // the list when it finishes, and the list goes with its last child.
        if (order.Spec.Parent is { } parent && _children.TryGetValue(parent, out var siblings))
        {
            siblings.Remove(order.Number);
            if (siblings.Count == 0) _children.Remove(parent);
        }

        if (IsWaitingExit(order.Spec) && _exits.TryGetValue((order.Bucket, order.Symbol), out var exits))
        {
            exits.Remove(order.Number);
            if (exits.Count == 0) _exits.Remove((order.Bucket, order.Symbol));
        }

        account.RecentDoneOrders.Enqueue(order.Number);
        while (account.RecentDoneOrders.Count > Options.DoneOrderHistory)
        {
            var old = account.RecentDoneOrders.Dequeue();
            // A list is forgotten with the last of its orders.
            if (_orders.Remove(old, out var forgotten) && forgotten.Spec.List is { } list
                && account.Lists.TryGetValue(list.Value, out var members) && !members.Orders.Any(_orders.ContainsKey))
                account.Lists.Remove(list.Value);
        }
    }

    private void ApplyFill(Account account, OrderFilled f)
    {
        var order = _orders[f.Order];
        var done = order.AddFill(f);
        NextFillNumber = Math.Max(NextFillNumber, f.Fill + 1);
        var bucket = account.FindBucket(order.Bucket)!;
        bucket.Balance += f.RealizedPnl - f.Fee;
        bucket.RealizedPnl += f.RealizedPnl;
        ChangePosition(bucket, order.Symbol, order.Side.Sign() * f.Quantity, f.Price);
        account.Fills.Add(f, order.Spec, Options.FillHistory);

        if (done)
        {
            Unindex(order);
            order.Finish(OrderStatus.Filled, null, f.At);
            Retire(account, order);
        }
    }

    /// <summary>
    /// Adds a signed quantity at <paramref name="price"/> to the bucket's position: the closing part
    /// releases margin pro rata, the opening part adds notional / leverage, a flip reopens at the price.
    /// </summary>
    private void ChangePosition(Bucket bucket, string symbol, decimal signed, decimal price)
    {
        if (!bucket.Positions.TryGetValue(symbol, out var position))
        {
            position = new Position(NextPositionKey++, bucket.Id, symbol);
            bucket.Positions[symbol] = position;
            _positionsByKey[position.Key] = position;
        }

        var instrument = InstrumentOf(symbol);
        var held = position.Quantity;
        var leverage = LeverageOf(bucket, symbol);
        if (held == 0m || Math.Sign(held) == Math.Sign(signed))
        {
            var size = Math.Abs(held) + Math.Abs(signed);
            position.EntryPrice = Money.Round((Math.Abs(held) * position.EntryPrice + Math.Abs(signed) * price) / size);
            position.Margin += Money.Round(Math.Abs(signed) * price / leverage);
            position.Quantity = held + signed;
            position.Leverage = leverage;
        }
        else
        {
            var closing = Math.Min(Math.Abs(signed), Math.Abs(held));
            position.Margin -= ReleasedMargin(position, closing);
            position.Quantity = held + Math.Sign(signed) * closing;
            var opening = Math.Abs(signed) - closing;
            if (opening > 0m)
            {
                position.Quantity = Math.Sign(signed) * opening;
                position.EntryPrice = price;
                position.Margin = Money.Round(opening * price / leverage);
                position.Leverage = leverage;
            }
        }

        var mark = Book(symbol, TriggerSource.Mark);
        mark.Remove(-position.Key);
        if (position.Quantity == 0m)
        {
            if (_pendingCloses.Count != 0) ForgetPendingClose(symbol, bucket.Id);
            bucket.Positions.Remove(symbol);
            _positionsByKey.Remove(position.Key);
            position.LiquidationPrice = null;
            return;
        }

        position.LiquidationPrice = LiquidationPrice(instrument, position.Quantity, position.EntryPrice, position.Margin);
        if (position.LiquidationPrice is { } liq)
            mark.AddLevel(-position.Key, position.Quantity > 0 ? TriggerDirection.Fall : TriggerDirection.Rise, liq);
    }

    private void ApplyLiquidation(Account account, PositionLiquidated liq)
    {
        var bucket = account.FindBucket(liq.Bucket)!;
        var position = bucket.Positions[liq.Symbol];
        NextFillNumber = Math.Max(NextFillNumber, liq.Fill + 1);
        bucket.Balance += liq.RealizedPnl;
        bucket.RealizedPnl += liq.RealizedPnl;
        Book(liq.Symbol, TriggerSource.Mark).Remove(-position.Key);
        bucket.Positions.Remove(liq.Symbol);
        _positionsByKey.Remove(position.Key);
        if (_pendingCloses.Count != 0) ForgetPendingClose(liq.Symbol, bucket.Id);
        var side = liq.Quantity > 0 ? OrderSide.Sell : OrderSide.Buy;
        account.Fills.Add(new Fill(liq.Fill, null, liq.Bucket, liq.Symbol, side, Math.Abs(liq.Quantity), liq.Price, 0m, liq.RealizedPnl, Liquidity.Liquidation, liq.At), Options.FillHistory);
    }

    private void Record(Account account, AccountEvent e)
    {
        account.EventSequence++;
        var sequenced = new SequencedEvent(account.EventSequence, e);
        account.Events.Add(sequenced, Options.EventHistory);
        Recorded?.Add(sequenced);
    }
}
