using Engine.Grains.Events;

namespace Engine.Grains.Orders;

/// <summary>An order's live state. Only the shard's Apply changes it.</summary>
/// <remarks>
/// Most resting orders never change between acceptance and their end, so what can change besides status
/// and phase lives in objects created on the first such change; until then it reads from the spec. An
/// order whose only change is one fill (a market order, each follower's copy in a fan-out) reads it from
/// its <see cref="OrderFilled"/> event, which the account's history keeps anyway; more fills and a reason
/// need only a small <see cref="FillState"/>; an amend, an activation or a trigger turns it into the full
/// <see cref="OrderProgress"/>.
/// </remarks>
public sealed class Order
{
    // null, the OrderFilled of the order's one fill, a FillState or an OrderProgress.
    private object? _progress;

    // Engine time is UTC; ticks take half the room of a DateTimeOffset.
    private long _created;
    private long _updated;

    public Order(AccountId account, OrderSpec spec, OrderStatus status, OrderPhase phase, DateTimeOffset at)
    {
        Account = account;
        Spec = spec;
        Status = status;
        Phase = phase;
        _created = at.UtcTicks;
        _updated = at.UtcTicks;
    }

    public AccountId Account { get; }
    public OrderSpec Spec { get; }
    public long Number => Spec.Number;
    public OrderId Id => new(Account, Spec.Number);
    public string Symbol => Spec.Symbol;
    public OrderSide Side => Spec.Side;
    public OrderType Type => Spec.Type;
    public BucketId Bucket => Spec.Bucket;

    // Amendable or set at activation.
    public decimal Quantity { get => _progress is OrderProgress p ? p.Quantity : Spec.Quantity; internal set => Progress.Quantity = value; }
    public decimal? Price { get => _progress is OrderProgress p ? p.Price : Spec.Price; internal set => Progress.Price = value; }
    public decimal? TriggerPrice { get => _progress is OrderProgress p ? p.TriggerPrice : Spec.TriggerPrice; internal set => Progress.TriggerPrice = value; }
    public decimal? CallbackRate { get => _progress is OrderProgress p ? p.CallbackRate : Spec.CallbackRate; internal set => Progress.CallbackRate = value; }
    public decimal? CallbackAmount { get => _progress is OrderProgress p ? p.CallbackAmount : Spec.CallbackAmount; internal set => Progress.CallbackAmount = value; }

    public OrderStatus Status { get; internal set; }
    public OrderPhase Phase { get; internal set; }
    public decimal FilledQuantity
    {
        get => _progress switch { FillState s => s.FilledQuantity, OrderFilled f => 0m + f.Quantity, _ => 0m };
        internal set => Fills.FilledQuantity = value;
    }

    public decimal AverageFillPrice
    {
        get => _progress switch { FillState s => s.AverageFillPrice, OrderFilled f => Average(0m, 0m, f.Price, f.Quantity, 0m + f.Quantity), _ => 0m };
        internal set => Fills.AverageFillPrice = value;
    }

    public decimal? TriggeredPrice { get => (_progress as OrderProgress)?.TriggeredPrice; internal set => Progress.TriggeredPrice = value; }
    public DateTimeOffset? TriggeredAt { get => (_progress as OrderProgress)?.TriggeredAt; internal set => Progress.TriggeredAt = value; }
    public string? Reason { get => (_progress as FillState)?.Reason; internal set => Fills.Reason = value; }
    public DateTimeOffset CreatedAt => new(_created, TimeSpan.Zero);
    public DateTimeOffset UpdatedAt { get => new(_updated, TimeSpan.Zero); internal set => _updated = value.UtcTicks; }

    public bool IsLive => Phase != OrderPhase.Done;

    /// <summary>Neighbours in the account's <see cref="Accounts.LiveOrderList"/>.</summary>
    internal Order? LivePrevious { get; set; }

    internal Order? LiveNext { get; set; }

    /// <summary>
    /// The order's entry in the trigger book that holds it, packed (see
    /// <see cref="ShardGrains"/>'s trigger entry store); 0 when it is in no book. Kept here rather than
    /// in a map of each book: the shard finds the order by number anyway.
    /// </summary>
    internal long BookEntry { get; set; }

    public bool IsLimitType => Type is OrderType.Limit or OrderType.StopLimit or OrderType.TakeProfitLimit;

    public bool IsConditional => Type is not (OrderType.Market or OrderType.Limit);

    /// <summary>The direction the watched price must move for this order's trigger to fire.</summary>
    public TriggerDirection FireDirection => OrderRules.FireDirection(Type, Side);

    // How each lifecycle event changes an order, in one place: the shard's Apply (which also moves the order
    // between trigger books around these calls) and the history read model both use these.

    /// <summary>A pending child armed (<see cref="Events.OrderActivated"/>).</summary>
    internal void Activate(decimal quantity, decimal? triggerPrice, decimal? price, OrderPhase phase, DateTimeOffset at)
    {
        Quantity = quantity;
        TriggerPrice = triggerPrice;
        Price = price;
        Phase = phase;
        Status = phase is OrderPhase.Resting or OrderPhase.Executing ? OrderStatus.Open : OrderStatus.Untriggered;
        UpdatedAt = at;
    }

    /// <summary>Moves to another waiting phase (trailing, confirming, back to waiting) with no other change.</summary>
    internal void EnterPhase(OrderPhase phase, DateTimeOffset at)
    {
        Phase = phase;
        UpdatedAt = at;
    }

    /// <summary>The trigger held at <paramref name="price"/>: a limit type rests, any other executes.</summary>
    internal void Trigger(decimal price, DateTimeOffset at)
    {
        TriggeredAt = at;
        TriggeredPrice = price;
        UpdatedAt = at;
        Phase = IsLimitType ? OrderPhase.Resting : OrderPhase.Executing;
        Status = OrderStatus.Open;
    }

    /// <summary>Converted to a market order (stop-limit gap fallback): it executes now.</summary>
    internal void ConvertToMarket(DateTimeOffset at)
    {
        Phase = OrderPhase.Executing;
        Status = OrderStatus.Open;
        UpdatedAt = at;
    }

    /// <summary>Adds a fill; true when the order is complete with it (the caller then calls <see cref="Finish"/>).</summary>
    internal bool AddFill(OrderFilled fill)
    {
        if (_progress is not null) return AddFill(fill.Quantity, fill.Price, fill.At);
        // The first change: the event is the state (the getters compute exactly what adding it would).
        _progress = fill;
        UpdatedAt = fill.At;
        return IsComplete;
    }

    /// <inheritdoc cref="AddFill(OrderFilled)"/>
    internal bool AddFill(decimal quantity, decimal price, DateTimeOffset at)
    {
        var total = FilledQuantity + quantity;
        AverageFillPrice = Average(AverageFillPrice, FilledQuantity, price, quantity, total);
        FilledQuantity = total;
        UpdatedAt = at;
        return IsComplete;
    }

    private bool IsComplete => Spec.ClosePosition || FilledQuantity >= Quantity || Spec.ReduceOnly;

    private static decimal Average(decimal average, decimal filled, decimal price, decimal quantity, decimal total) =>
        total == 0m ? 0m : (average * filled + price * quantity) / total;

    internal void Amend(decimal quantity, decimal? price, decimal? triggerPrice, decimal? callbackRate, decimal? callbackAmount, DateTimeOffset at)
    {
        Quantity = quantity;
        Price = price;
        TriggerPrice = triggerPrice;
        CallbackRate = callbackRate;
        CallbackAmount = callbackAmount;
        UpdatedAt = at;
    }

    /// <summary>Ends the order (filled, cancelled, expired, rejected); <paramref name="reason"/> null keeps none.</summary>
    internal void Finish(OrderStatus status, string? reason, DateTimeOffset at)
    {
        Status = status;
        if (reason is not null) Reason = reason;
        Phase = OrderPhase.Done;
        UpdatedAt = at;
    }

    private FillState Fills => _progress as FillState ?? (FillState)(_progress = new FillState { FilledQuantity = FilledQuantity, AverageFillPrice = AverageFillPrice });

    private OrderProgress Progress => _progress as OrderProgress ?? (OrderProgress)(_progress = new OrderProgress(Spec, _progress is null ? null : Fills));

    /// <summary>What fills and ending have changed about an order.</summary>
    private class FillState
    {
        public decimal FilledQuantity;
        public decimal AverageFillPrice;
        public string? Reason;
    }

    /// <summary>Everything that has changed about an order since it was accepted.</summary>
    private sealed class OrderProgress : FillState
    {
        public decimal Quantity;
        public decimal? Price;
        public decimal? TriggerPrice;
        public decimal? CallbackRate;
        public decimal? CallbackAmount;
        public decimal? TriggeredPrice;
        public DateTimeOffset? TriggeredAt;

        public OrderProgress(OrderSpec spec, FillState? fills)
        {
            Quantity = spec.Quantity;
            Price = spec.Price;
            TriggerPrice = spec.TriggerPrice;
            CallbackRate = spec.CallbackRate;
            CallbackAmount = spec.CallbackAmount;
            if (fills is null) return;
            FilledQuantity = fills.FilledQuantity;
            AverageFillPrice = fills.AverageFillPrice;
            Reason = fills.Reason;
        }
    }
}
