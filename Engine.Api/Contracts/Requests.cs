using Engine.Grains.Events;
using Engine.Grains.Orders;
using Engine.Grains.Pricing;

namespace Engine.Api.Contracts;

// Optional members have default values: the OpenAPI generator lists every constructor parameter
// without one as required.

public sealed record CreateAccountRequest(string? Name, string? ClientOrderId = null);

/// <summary>A deposit or withdrawal in USDT.</summary>
public sealed record AmountRequest(decimal? Amount, string? ClientOrderId = null);

public sealed record CreateBucketRequest(string? Name, decimal? Allocation = null, string? ClientOrderId = null);

public sealed record TransferRequest(TransferDirection? Direction, decimal? Amount, string? ClientOrderId = null);

public sealed record LeverageRequest(string? Symbol, int? Leverage);

public sealed record TickRequest(string? Source, string? Symbol, decimal? Price, DateTimeOffset? Timestamp = null);

public sealed record TicksRequest(IReadOnlyList<TickRequest>? Ticks);

public sealed record OrderRequestBody
{
    public string? BucketId { get; init; }
    public string? Symbol { get; init; }
    public OrderSide? Side { get; init; }
    public OrderType? Type { get; init; }
    public decimal? Quantity { get; init; }
    public decimal? Price { get; init; }
    public decimal? TriggerPrice { get; init; }
    public TriggerSource? TriggerBy { get; init; }
    public decimal? CallbackRate { get; init; }
    public decimal? CallbackAmount { get; init; }
    public decimal? ActivationPrice { get; init; }
    public TimeInForce? TimeInForce { get; init; }
    public DateTimeOffset? ExpireAt { get; init; }
    public bool? ReduceOnly { get; init; }
    public bool? ClosePosition { get; init; }
    public string? ClientOrderId { get; init; }
}

/// <summary>A bracket exit (triggerPrice, optional limit price) or a straddle exit (distance, a fraction).</summary>
public sealed record ExitBody(decimal? TriggerPrice = null, decimal? Price = null, decimal? Distance = null);

public sealed record OrderListRequestBody
{
    public OrderListType? Type { get; init; }
    public string? BucketId { get; init; }
    public string? ClientOrderId { get; init; }
    public IReadOnlyList<OrderRequestBody>? Legs { get; init; }
    public OrderRequestBody? Primary { get; init; }
    public IReadOnlyList<OrderRequestBody>? Secondary { get; init; }
    public OrderRequestBody? Entry { get; init; }
    public ExitBody? TakeProfit { get; init; }
    public ExitBody? StopLoss { get; init; }
    public string? Symbol { get; init; }
    public decimal? Quantity { get; init; }
    public ExitBody? Above { get; init; }
    public ExitBody? Below { get; init; }
    public TriggerSource? TriggerBy { get; init; }
}

public sealed record AmendOrderRequest(decimal? Quantity = null, decimal? Price = null, decimal? TriggerPrice = null, decimal? CallbackRate = null);
