using Engine.Grains.Pricing;

namespace Engine.Grains.Orders;

/// <summary>
/// Everything fixed about an order when it is accepted. Prices in USDT, quantity in base units;
/// <see cref="CallbackRate"/> and <see cref="ParentDistance"/> are fractions (0.01 = 1%).
/// </summary>
public sealed record OrderSpec
{
    public required long Number { get; init; }
    public required BucketId Bucket { get; init; }
    public required string Symbol { get; init; }
    public required OrderSide Side { get; init; }
    public required OrderType Type { get; init; }
    /// <summary>Zero for a close-position order and for children sized from their parent's fill.</summary>
    public decimal Quantity { get; init; }
    public decimal? Price { get; init; }
    public decimal? TriggerPrice { get; init; }
    public TriggerSource TriggerBy { get; init; }
    public decimal? CallbackRate { get; init; }
    public decimal? CallbackAmount { get; init; }
    public decimal? ActivationPrice { get; init; }
    public TimeInForce TimeInForce { get; init; }
    public DateTimeOffset? ExpireAt { get; init; }
    public bool ReduceOnly { get; init; }
    public bool ClosePosition { get; init; }
    public string? ClientOrderId { get; init; }
    public ListId? List { get; init; }
    /// <summary>The order whose complete fill arms this one (OTO secondary, bracket and straddle exits).</summary>
    public long? Parent { get; init; }
    /// <summary>The other leg of this order's one-cancels-the-other pair.</summary>
    public long? OcoSibling { get; init; }
    /// <summary>When set, the trigger price is this fraction away from the parent's average fill price.</summary>
    public decimal? ParentDistance { get; init; }
    /// <summary>When true, the quantity is the parent's filled quantity (bracket and straddle exits).</summary>
    public bool SizeFromParent { get; init; }
}
