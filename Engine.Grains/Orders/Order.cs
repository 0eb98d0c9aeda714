namespace Engine.Grains.Orders;

/// <summary>An order's live state. Only the shard's Apply changes it.</summary>
/// <remarks>
/// Most resting orders never change between acceptance and their end, so everything that can change
/// besides status and phase (amended values, fills, trigger details, reason) lives in an
/// <see cref="OrderProgress"/> created on the first such change; until then it reads from the spec.
/// </remarks>
public sealed class Order
{
    private OrderProgress? _progress;

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
    public decimal Quantity { get => _progress?.Quantity ?? Spec.Quantity; internal set => Progress.Quantity = value; }
    public decimal? Price { get => _progress is null ? Spec.Price : _progress.Price; internal set => Progress.Price = value; }
    public decimal? TriggerPrice { get => _progress is null ? Spec.TriggerPrice : _progress.TriggerPrice; internal set => Progress.TriggerPrice = value; }
    public decimal? CallbackRate { get => _progress is null ? Spec.CallbackRate : _progress.CallbackRate; internal set => Progress.CallbackRate = value; }
    public decimal? CallbackAmount { get => _progress is null ? Spec.CallbackAmount : _progress.CallbackAmount; internal set => Progress.CallbackAmount = value; }

    public OrderStatus Status { get; internal set; }
    public OrderPhase Phase { get; internal set; }
    public decimal FilledQuantity { get => _progress?.FilledQuantity ?? 0m; internal set => Progress.FilledQuantity = value; }
    public decimal AverageFillPrice { get => _progress?.AverageFillPrice ?? 0m; internal set => Progress.AverageFillPrice = value; }
    public decimal? TriggeredPrice { get => _progress?.TriggeredPrice; internal set => Progress.TriggeredPrice = value; }
    public DateTimeOffset? TriggeredAt { get => _progress?.TriggeredAt; internal set => Progress.TriggeredAt = value; }
    public string? Reason { get => _progress?.Reason; internal set => Progress.Reason = value; }
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

    private OrderProgress Progress => _progress ??= new OrderProgress(Spec);

    /// <summary>What has changed about an order since it was accepted.</summary>
    private sealed class OrderProgress(OrderSpec spec)
    {
        public decimal Quantity = spec.Quantity;
        public decimal? Price = spec.Price;
        public decimal? TriggerPrice = spec.TriggerPrice;
        public decimal? CallbackRate = spec.CallbackRate;
        public decimal? CallbackAmount = spec.CallbackAmount;
        public decimal FilledQuantity;
        public decimal AverageFillPrice;
        public decimal? TriggeredPrice;
        public DateTimeOffset? TriggeredAt;
        public string? Reason;
    }
}
