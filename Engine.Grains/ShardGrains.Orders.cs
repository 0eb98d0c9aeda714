using Engine.Grains.Accounts;
using Engine.Grains.Common;
using Engine.Grains.Events;
using Engine.Grains.Instruments;
using Engine.Grains.Margin;
using Engine.Grains.Orders;
using Engine.Grains.Risk;

namespace Engine.Grains;

public sealed partial class ShardGrains
{
    /// <summary>Largest price or quantity accepted; keeps notional arithmetic far from decimal's limits.</summary>
    public const decimal MaxNumber = 1_000_000_000m;

    /// <summary>Largest trailing callback rate (a fraction).</summary>
    public const decimal MaxCallbackRate = 0.2m;

    private CommandResult Decide(PlaceOrder c)
    {
        if (!TryAccount(c.Account, out var account, out var rejected)) return rejected;
        var r = c.Request;
        if (SeenClientId(account, r.ClientOrderId, r.ClientOrderId, c.BodyHash, static (g, _, n) => g._orders.ContainsKey(n) ? n : null) is { } seen) return seen;
        if (Validate(account, r, out var bucket, out var instrument) is { } invalid) return Reject(invalid);
        var spec = ToSpec(r, bucket.Id, NextOrderNumber, r.ClientOrderId);
        if (Blocked(account, bucket, spec) is { } blocked) return Reject(blocked);
        if (Band(ref spec) is { } outOfBand) return Reject(outOfBand);
        if (CheckPlacement(account, bucket, instrument, spec) is { } refused) return Reject(refused);
        Accept(account, spec, c.BodyHash);
        return Ok(spec.Number);
    }

    private CommandResult Decide(ClosePosition c)
    {
        if (!TryAccount(c.Account, out var account, out var rejected)) return rejected;
        if (account.FindBucket(c.Bucket) is not { } bucket) return Reject(Rejection.NotFound("bucket not found"));
        if (!bucket.Positions.TryGetValue(c.Symbol, out var position))
            return Reject(Rejection.Business("no_position", $"no {c.Symbol} position in this bucket"));
        var request = new OrderRequest
        {
            Bucket = bucket.Id,
            Symbol = c.Symbol,
            Side = position.Quantity > 0 ? OrderSide.Sell : OrderSide.Buy,
            Type = OrderType.Market,
            Quantity = Math.Abs(position.Quantity),
            ReduceOnly = true,
        };
        return Decide(new PlaceOrder(request, null) { Account = c.Account });
    }

    private CommandResult Decide(AmendOrder c)
    {
        if (!TryAccount(c.Account, out var account, out var rejected)) return rejected;
        if (FindOrder(account.Id, c.Order) is not { } order) return Reject(Rejection.NotFound("order not found"));
        if (!order.IsLive) return Reject(Rejection.Business("order_closed", $"the order is {order.Status.ToString().ToLowerInvariant()}"));
        var instrument = InstrumentOf(order.Symbol);
        var quantity = order.Quantity;
        if (c.Quantity is { } q)
        {
            if (order.Spec.ClosePosition || order.Spec.SizeFromParent)
                return Reject(Rejection.Invalid("invalid_quantity", "this order's quantity follows its position or parent"));
            if (QuantityProblem(instrument, q) is { } bad) return Reject(bad);
            quantity = q;
        }

        var price = order.Price;
        if (c.Price is { } p)
        {
            if (!order.IsLimitType) return Reject(Rejection.Invalid("invalid_price", "only limit orders have a price"));
            if (PriceProblem(instrument, p, "price") is { } bad) return Reject(bad);
            price = p;
        }

        var trigger = order.TriggerPrice;
        if (c.TriggerPrice is { } t)
        {
            if (!order.IsConditional || order.Type == OrderType.TrailingStop || order.Phase is not (OrderPhase.Waiting or OrderPhase.Pending))
                return Reject(Rejection.Invalid("invalid_trigger_price", "only a waiting stop or take-profit has a trigger price to amend"));
            if (order.Spec.ParentDistance is not null && order.Phase == OrderPhase.Pending)
                return Reject(Rejection.Invalid("invalid_trigger_price", "this exit's trigger is set from its entry's fill"));
            if (PriceProblem(instrument, t, "triggerPrice") is { } bad) return Reject(bad);
            if (order.Phase == OrderPhase.Waiting && QuoteOf(order.Symbol).Of(order.Spec.TriggerBy) is { } watched
                && OrderRules.Holds(order.FireDirection, watched, t))
                return Reject(Rejection.Business("would_immediately_trigger", $"the {order.Spec.TriggerBy.ToString().ToLowerInvariant()} price {watched} already satisfies the trigger"));
            if (StopBeyondLiquidation(account.FindBucket(order.Bucket)!, order.Type, order.Side, order.Symbol, t) is { } beyond) return Reject(beyond);
            trigger = t;
        }

        var rate = order.CallbackRate;
        if (c.CallbackRate is { } cr)
        {
            if (order.Type != OrderType.TrailingStop || order.CallbackRate is null)
                return Reject(Rejection.Invalid("invalid_callback", "only a trailing stop with a callback rate has one to amend"));
            if (cr <= 0m || cr > MaxCallbackRate)
                return Reject(Rejection.Invalid("invalid_callback", $"callbackRate must be greater than 0 and at most {MaxCallbackRate}"));
            // As with a trigger price: a tighter callback whose level the price already passed would
            // sit in the book unfired (prices are only evaluated when they change).
            if (TrailingExtreme(order) is { } extreme && QuoteOf(order.Symbol).Of(order.Spec.TriggerBy) is { } watched
                && OrderRules.Holds(order.FireDirection, watched, order.FireDirection == TriggerDirection.Fall ? extreme * (1m - cr) : extreme * (1m + cr)))
                return Reject(Rejection.Business("would_immediately_trigger", $"the {order.Spec.TriggerBy.ToString().ToLowerInvariant()} price {watched} already satisfies a callback of {cr} from {extreme}"));
            rate = cr;
        }

        if (c.Quantity is null && c.Price is null && c.TriggerPrice is null && c.CallbackRate is null)
            return Reject(Rejection.Invalid("nothing_to_amend", "give quantity, price, triggerPrice or callbackRate"));
        if (order.Type != OrderType.Market && quantity * (price ?? trigger ?? order.Spec.ActivationPrice ?? QuoteOf(order.Symbol).Index ?? 0m) is var notional
            && notional > 0m && notional < instrument.MinNotional && !order.Spec.ClosePosition && !order.Spec.SizeFromParent)
            return Reject(Rejection.Invalid("notional_below_minimum", $"notional {notional} is below {instrument.MinNotional}"));

        if ((c.Price is not null || c.TriggerPrice is not null) && AmendProblem(order, ref price, trigger) is { } risky) return Reject(risky);
        Emit(new OrderAmended(order.Number, quantity, price, trigger, rate, order.CallbackAmount) { At = _now, Account = account.Id });
        if (order.Phase == OrderPhase.Resting && !IsHalted(order.Symbol)) ExecuteLimitIfMarketable(order);
        return Ok(order.Number);
    }

    private CommandResult Decide(CancelOrder c)
    {
        if (!TryAccount(c.Account, out var account, out var rejected)) return rejected;
        if (FindOrder(account.Id, c.Order) is not { } order) return Reject(Rejection.NotFound("order not found"));
        if (!order.IsLive) return Reject(Rejection.Business("order_closed", $"the order is {order.Status.ToString().ToLowerInvariant()}"));
        Finish(order, new OrderCancelled(order.Number, OrderReasons.User) { At = _now, Account = account.Id });
        return Ok(order.Number);
    }

    private CommandResult Decide(CancelOrders c)
    {
        if (!TryAccount(c.Account, out var account, out var rejected)) return rejected;
        if (c.Bucket is { } b && account.FindBucket(b) is null) return Reject(Rejection.NotFound("bucket not found"));
        var targets = account.LiveOrders
            .Select(n => _orders[n])
            .Where(o => (c.Symbol is null || o.Symbol == c.Symbol) && (c.Bucket is null || o.Bucket == c.Bucket))
            .OrderBy(o => o.Number)
            .ToList();
        var before = _out.Count;
        foreach (var order in targets)
            if (order.IsLive)
                Finish(order, new OrderCancelled(order.Number, OrderReasons.User) { At = _now, Account = account.Id });
        return Ok(_out.Skip(before).Count(e => e is OrderCancelled));
    }

    /// <summary>Checks one order request's fields against its instrument; null when valid.</summary>
    private Rejection? Validate(Account account, OrderRequest r, out Bucket bucket, out Instrument instrument)
    {
        bucket = null!;
        instrument = null!;
        var found = account.FindBucket(r.Bucket ?? account.ManualBucket);
        if (found is null) return Rejection.NotFound("bucket not found");
        bucket = found;
        if (Instruments.Find(r.Symbol) is not { } inst) return Rejection.Invalid("unknown_symbol", $"unknown symbol {r.Symbol}");
        instrument = inst;
        if (r.ClientOrderId is { } cid && !IsValidClientId(cid))
            return Rejection.Invalid("invalid_client_order_id", ClientIdRule);

        if (r.ClosePosition)
        {
            if (r.Type is not (OrderType.Stop or OrderType.TakeProfit))
                return Rejection.Invalid("invalid_close_position", "closePosition is for stop and takeProfit orders");
            if (r.Quantity is { } cq && cq != 0m)
                return Rejection.Invalid("invalid_quantity", "a closePosition order takes no quantity");
        }
        else if (r.Quantity is not { } q)
        {
            return Rejection.Invalid("invalid_quantity", "quantity is required");
        }
        else if (QuantityProblem(inst, q) is { } bad)
        {
            return bad;
        }

        var isLimit = r.Type is OrderType.Limit or OrderType.StopLimit or OrderType.TakeProfitLimit;
        if (isLimit)
        {
            if (r.Price is not { } p) return Rejection.Invalid("invalid_price", "price is required for limit orders");
            if (PriceProblem(inst, p, "price") is { } bad) return bad;
        }
        else if (r.Price is not null)
        {
            return Rejection.Invalid("invalid_price", $"a {Camel(r.Type)} order takes no price");
        }

        var needsTrigger = r.Type is OrderType.Stop or OrderType.StopLimit or OrderType.TakeProfit or OrderType.TakeProfitLimit;
        if (needsTrigger)
        {
            if (r.TriggerPrice is not { } t) return Rejection.Invalid("invalid_trigger_price", "triggerPrice is required");
            if (PriceProblem(inst, t, "triggerPrice") is { } bad) return bad;
        }
        else if (r.TriggerPrice is not null)
        {
            return Rejection.Invalid("invalid_trigger_price", $"a {Camel(r.Type)} order takes no triggerPrice");
        }

        if (r.Type == OrderType.TrailingStop)
        {
            if ((r.CallbackRate is null) == (r.CallbackAmount is null))
                return Rejection.Invalid("invalid_callback", "give exactly one of callbackRate and callbackAmount");
            if (r.CallbackRate is { } rate && (rate <= 0m || rate > MaxCallbackRate))
                return Rejection.Invalid("invalid_callback", $"callbackRate must be greater than 0 and at most {MaxCallbackRate}");
            if (r.CallbackAmount is { } amount && PriceProblem(inst, amount, "callbackAmount") is { } bad) return bad;
            if (r.ActivationPrice is { } act && PriceProblem(inst, act, "activationPrice") is { } badAct) return badAct;
        }
        else if (r.CallbackRate is not null || r.CallbackAmount is not null || r.ActivationPrice is not null)
        {
            return Rejection.Invalid("invalid_callback", "callbackRate, callbackAmount and activationPrice are for trailingStop orders");
        }

        if (r.TimeInForce == TimeInForce.Gtd)
        {
            if (r.ExpireAt is not { } exp) return Rejection.Invalid("invalid_expire_at", "timeInForce gtd needs expireAt");
            if (exp <= _now) return Rejection.Invalid("invalid_expire_at", "expireAt must be in the future");
        }
        else if (r.ExpireAt is not null)
        {
            return Rejection.Invalid("invalid_expire_at", "expireAt goes with timeInForce gtd");
        }

        if (RiskFieldsProblem(inst, r) is { } risky) return risky;

        if (!r.ClosePosition && r.Quantity is { } qty
            && (r.Price ?? r.TriggerPrice ?? r.ActivationPrice ?? QuoteOf(r.Symbol).Index) is { } reference
            && qty * reference < inst.MinNotional && !r.ReduceOnly)
            return Rejection.Invalid("notional_below_minimum", $"notional {qty * reference} is below the minimum {inst.MinNotional}");
        return null;
    }

    internal const string ClientIdRule = "clientOrderId must be 1 to 64 characters of A-Z, a-z, 0-9 and . _ : / -";

    /// <summary>Client ids keep to a plain alphabet, which leaves other characters free to namespace internal keys.</summary>
    internal static bool IsValidClientId(string id)
    {
        if (id.Length is 0 or > 64) return false;
        foreach (var c in id)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '/' or '-'))
                return false;
        return true;
    }

    private static Rejection? QuantityProblem(Instrument inst, decimal q)
    {
        if (q <= 0m) return Rejection.Invalid("invalid_quantity", "quantity must be greater than 0");
        if (q > MaxNumber) return Rejection.Invalid("invalid_quantity", $"quantity must be at most {MaxNumber}");
        if (!inst.IsOnLot(q)) return Rejection.Invalid("invalid_lot_size", $"quantity must be a multiple of the lot step {inst.LotStep}");
        if (q < inst.MinQuantity) return Rejection.Invalid("invalid_quantity", $"quantity must be at least {inst.MinQuantity}");
        return null;
    }

    private static Rejection? PriceProblem(Instrument inst, decimal p, string field)
    {
        var code = field == "price" ? "invalid_price" : field == "triggerPrice" ? "invalid_trigger_price" : "invalid_" + CamelToSnake(field);
        if (p <= 0m) return Rejection.Invalid(code, $"{field} must be greater than 0");
        if (p > MaxNumber) return Rejection.Invalid(code, $"{field} must be at most {MaxNumber}");
        if (!inst.IsOnTick(p)) return Rejection.Invalid("invalid_tick_size", $"{field} must be a multiple of the tick size {inst.TickSize}");
        return null;
    }

    private static string CamelToSnake(string s) =>
        string.Concat(s.Select((ch, i) => char.IsUpper(ch) ? (i > 0 ? "_" : "") + char.ToLowerInvariant(ch) : ch.ToString()));

    private static string Camel(OrderType t)
    {
        var s = t.ToString();
        return char.ToLowerInvariant(s[0]) + s[1..];
    }

    private static OrderSpec ToSpec(OrderRequest r, BucketId bucket, long number, string? clientOrderId = null) => new()
    {
        Number = number,
        Bucket = bucket,
        Symbol = r.Symbol,
        Side = r.Side,
        Type = r.Type,
        Quantity = r.ClosePosition ? 0m : r.Quantity ?? 0m,
        Price = r.Price,
        TriggerPrice = r.TriggerPrice,
        TriggerBy = r.TriggerBy,
        CallbackRate = r.CallbackRate,
        CallbackAmount = r.CallbackAmount,
        ActivationPrice = r.ActivationPrice,
        TimeInForce = r.TimeInForce,
        ExpireAt = r.ExpireAt,
        ReduceOnly = r.ReduceOnly,
        ClosePosition = r.ClosePosition,
        ClientOrderId = clientOrderId,
        Risk = OrderRiskSpec.Of(r.TriggerConfirmation, r.Fallback),
    };

    /// <summary>
    /// The business checks an order must pass before it is accepted: trading allowed, a price for
    /// what executes now, margin for what fills now, no trigger that already holds, no stop beyond
    /// the liquidation price. Pending children are checked when armed.
    /// </summary>
    private Rejection? CheckPlacement(Account account, Bucket bucket, Instrument instrument, OrderSpec spec)
    {
        if (Blocked(account, bucket, spec) is { } blocked) return blocked;
        if (spec.Parent is not null) return null;
        var quote = QuoteOf(spec.Symbol);
        switch (spec.Type)
        {
            case OrderType.Market:
            {
                var price = Venue.MarketFillPrice(instrument, spec.Side, spec.Quantity, quote);
                if (price is null) return Rejection.Business("no_price", $"no price for {spec.Symbol} yet");
                return PlanFill(bucket, instrument, spec, spec.Quantity, price.Value, instrument.TakerFeeRate, out _) is { } reason
                    ? Rejection.Business(reason, ReasonDetail(reason))
                    : null;
            }

            case OrderType.Limit:
            {
                if (spec.ReduceOnly && !Reduces(bucket, spec.Symbol, spec.Side))
                    return Rejection.Business(OrderReasons.ReduceOnlyWouldIncrease, ReasonDetail(OrderReasons.ReduceOnlyWouldIncrease));
                if (MarketableFillPrice(instrument, spec.Side, spec.Price!.Value, spec.Quantity, quote) is { } fill
                    && PlanFill(bucket, instrument, spec, spec.Quantity, fill, instrument.TakerFeeRate, out _) is { } reason)
                    return Rejection.Business(reason, ReasonDetail(reason));
                return null;
            }

            case OrderType.TrailingStop:
            {
                var watched = quote.Of(spec.TriggerBy);
                if (spec.ActivationPrice is null && watched is null)
                    return Rejection.Business("no_price", $"no {Lower(spec.TriggerBy)} price for {spec.Symbol} yet to trail from");
                return null;
            }

            default:
            {
                var direction = OrderRules.FireDirection(spec.Type, spec.Side);
                if (quote.Of(spec.TriggerBy) is { } watched && OrderRules.Holds(direction, watched, spec.TriggerPrice!.Value))
                    return Rejection.Business("would_immediately_trigger",
                        $"the {Lower(spec.TriggerBy)} price {watched} already satisfies triggerPrice {spec.TriggerPrice}");
                return StopBeyondLiquidation(bucket, spec.Type, spec.Side, spec.Symbol, spec.TriggerPrice!.Value);
            }
        }
    }

    /// <summary>A stop that closes the bucket's position only at or beyond its liquidation price would never protect it.</summary>
    private static Rejection? StopBeyondLiquidation(Bucket bucket, OrderType type, OrderSide side, string symbol, decimal trigger)
    {
        if (type is OrderType.Stop or OrderType.StopLimit
            && bucket.Positions.TryGetValue(symbol, out var position)
            && position.LiquidationPrice is { } liq
            && Math.Sign(position.Quantity) == -side.Sign()
            && (position.Quantity > 0 ? trigger <= liq : trigger >= liq))
            return Rejection.Business("stop_beyond_liquidation",
                $"triggerPrice {trigger} is at or beyond the position's liquidation price {liq}");
        return null;
    }

    private static string Lower(Pricing.TriggerSource s) => s.ToString().ToLowerInvariant();

    private static string ReasonDetail(string reason) => reason switch
    {
        OrderReasons.InsufficientMargin => "the bucket's available margin does not cover this order's initial margin and fee",
        OrderReasons.ReduceOnlyWouldIncrease => "a reduce-only order may only reduce an opposite position",
        OrderReasons.NoPosition => "there is no position to close",
        OrderReasons.NoPrice => "there is no price to execute at",
        _ => reason,
    };

    /// <summary>True when a <paramref name="side"/> order would reduce the bucket's position in the symbol.</summary>
    private static bool Reduces(Bucket bucket, string symbol, OrderSide side) =>
        bucket.Positions.TryGetValue(symbol, out var p) && Math.Sign(p.Quantity) == -side.Sign();

    /// <summary>Emits an accepted order and runs what it does at once (execute, rest, activate, expire).</summary>
    private void Accept(Account account, OrderSpec spec, string? bodyHash)
    {
        var (status, phase) = InitialState(spec);
        Emit(new OrderAccepted(spec, status, phase, bodyHash) { At = _now, Account = account.Id });
        Start(_orders[spec.Number]);
    }

    private static (OrderStatus Status, OrderPhase Phase) InitialState(OrderSpec spec)
    {
        if (spec.Parent is not null) return (OrderStatus.Untriggered, OrderPhase.Pending);
        return spec.Type switch
        {
            OrderType.Market => (OrderStatus.Open, OrderPhase.Executing),
            OrderType.Limit => (OrderStatus.Open, OrderPhase.Resting),
            OrderType.TrailingStop => (OrderStatus.Untriggered, OrderPhase.AwaitingActivation),
            _ => (OrderStatus.Untriggered, OrderPhase.Waiting),
        };
    }

    /// <summary>What a just-accepted or just-armed order does before it waits.</summary>
    private void Start(Order order)
    {
        if (_halts.Count != 0 && _halts.ContainsKey(order.Symbol))
        {
            StartWhileHalted(order);
            return;
        }

        var quote = QuoteOf(order.Symbol);
        switch (order.Phase)
        {
            case OrderPhase.Executing:
                ExecuteMarket(order);
                break;
            case OrderPhase.Resting:
                ExecuteLimitIfMarketable(order);
                break;
            case OrderPhase.AwaitingActivation when quote.Of(order.Spec.TriggerBy) is { } watched
                && (order.Spec.ActivationPrice is not { } act || OrderRules.Holds(OrderRules.ActivationDirection(order.Side), watched, act)):
                Emit(new TrailingStopActivated(order.Number, watched) { At = _now, Account = order.Account });
                break;
            case OrderPhase.Waiting when quote.Of(order.Spec.TriggerBy) is { } watched
                && OrderRules.Holds(order.FireDirection, watched, order.TriggerPrice!.Value):
                // An exit armed after its entry filled may already be beyond its trigger: it fires now
                // (a wick-protected one starts its confirmation).
                if (order.Spec.TriggerConfirmation is not null) BeginConfirmation(order, watched);
                else Trigger(order, watched);
                break;
        }
    }

    /// <summary>
    /// The answer to a placement whose client id was seen before: its original result for the same
    /// body, a conflict for another. Null when the id is new. <paramref name="replay"/> turns the
    /// remembered number into the result's value (static: no closure per placement), or null when that is no longer known.
    /// </summary>
    private CommandResult? SeenClientId(Account account, string? clientId, string? key, string? bodyHash, Func<ShardGrains, Account, long, object?> replay)
    {
        if (clientId is null) return null;
        if (!IsValidClientId(clientId)) return Reject(Rejection.Invalid("invalid_client_order_id", ClientIdRule));
        if (!account.ClientOrderIds.TryGetValue(key!, out var seen)) return null;
        return seen.BodyHash == bodyHash && replay(this, account, seen.Order) is { } value
            ? new CommandResult(null, [], value, Replayed: true)
            : Reject(new Rejection(RejectionKind.Conflict, "duplicate_client_order_id", $"clientOrderId {clientId} was used for another request"));
    }

    private void RememberClientId(Account account, string clientId, long number, string? bodyHash)
    {
        account.ClientOrderIds[clientId] = (number, bodyHash);
        account.ClientOrderIdOrder.Enqueue(clientId);
        while (account.ClientOrderIdOrder.Count > Options.ClientIdHistory)
            account.ClientOrderIds.Remove(account.ClientOrderIdOrder.Dequeue());
    }
}
