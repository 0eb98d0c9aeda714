using Engine.Grains.Pricing;

namespace Engine.Grains.Orders;

/// <summary>An order's live state. Only the shard's Apply changes it.</summary>
public sealed class Order
{
    public Order(AccountId account, OrderSpec spec, OrderStatus status, OrderPhase phase, DateTimeOffset at)
    {
        Account = account;
        Spec = spec;
        Quantity = spec.Quantity;
        Price = spec.Price;
        TriggerPrice = spec.TriggerPrice;
        CallbackRate = spec.CallbackRate;
        CallbackAmount = spec.CallbackAmount;
        Status = status;
        Phase = phase;
        CreatedAt = at;
        UpdatedAt = at;
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
    public decimal Quantity { get; internal set; }
    public decimal? Price { get; internal set; }
    public decimal? TriggerPrice { get; internal set; }
    public decimal? CallbackRate { get; internal set; }
    public decimal? CallbackAmount { get; internal set; }

    public OrderStatus Status { get; internal set; }
    public OrderPhase Phase { get; internal set; }
    public decimal FilledQuantity { get; internal set; }
    public decimal AverageFillPrice { get; internal set; }
    public decimal? TriggeredPrice { get; internal set; }
    public DateTimeOffset? TriggeredAt { get; internal set; }
    public string? Reason { get; internal set; }
    public DateTimeOffset CreatedAt { get; }
    public DateTimeOffset UpdatedAt { get; internal set; }

    public bool IsLive => Phase != OrderPhase.Done;

    public bool IsLimitType => Type is OrderType.Limit or OrderType.StopLimit or OrderType.TakeProfitLimit;

    public bool IsConditional => Type is not (OrderType.Market or OrderType.Limit);

    /// <summary>Reduce-only in effect: explicit, close-position, or an exit sized from its parent.</summary>
    public bool Reduces => Spec.ReduceOnly || Spec.ClosePosition;

    /// <summary>The direction the watched price must move for this order's trigger to fire.</summary>
    public TriggerDirection FireDirection => OrderRules.FireDirection(Type, Side);
}
