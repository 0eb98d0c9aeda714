using Engine.Grains.Pricing;

namespace Engine.Grains.Orders;

/// <summary>
/// A client's order as the domain validates it. Null means "not given"; prices in USDT, quantity in
/// base units, <see cref="CallbackRate"/> a fraction.
/// </summary>
public sealed record OrderRequest
{
    public BucketId? Bucket { get; init; }
    public required string Symbol { get; init; }
    public required OrderSide Side { get; init; }
    public required OrderType Type { get; init; }
    public decimal? Quantity { get; init; }
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
    /// <summary>Wick protection: the trigger must still hold this long after it first held.</summary>
    public TimeSpan? TriggerConfirmation { get; init; }
    /// <summary>A stop-limit's gap fallback.</summary>
    public Risk.OrderFallback? Fallback { get; init; }
}

/// <summary>An exit of a bracket: a trigger price and, for a limit exit, a limit price.</summary>
public sealed record ExitRequest(decimal TriggerPrice, decimal? Price);

/// <summary>
/// An order list. Which members are used depends on <see cref="Type"/>: <c>Legs</c> for oco,
/// <c>Primary</c> and <c>Secondary</c> for oto, <c>Entry</c>, <c>TakeProfit</c> and <c>StopLoss</c> for
/// bracket, and the straddle members for straddle. Distances are fractions of the fill price.
/// </summary>
public sealed record OrderListRequest
{
    public required OrderListType Type { get; init; }
    public BucketId? Bucket { get; init; }
    public string? ClientOrderId { get; init; }
    public IReadOnlyList<OrderRequest>? Legs { get; init; }
    public OrderRequest? Primary { get; init; }
    public IReadOnlyList<OrderRequest>? Secondary { get; init; }
    public OrderRequest? Entry { get; init; }
    public ExitRequest? TakeProfit { get; init; }
    public ExitRequest? StopLoss { get; init; }
    public string? Symbol { get; init; }
    public decimal? Quantity { get; init; }
    public decimal? AboveTrigger { get; init; }
    public decimal? BelowTrigger { get; init; }
    public decimal? TakeProfitDistance { get; init; }
    public decimal? StopLossDistance { get; init; }
    public TriggerSource TriggerBy { get; init; }
}
