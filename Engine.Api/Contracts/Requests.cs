using Engine.Grains.Events;
using Engine.Grains.Orders;
using Engine.Grains.Pricing;

namespace Engine.Api.Contracts;

// Optional members have default values: the OpenAPI generator lists every constructor parameter
// without one as required.

public sealed record CreateAccountRequest(string? Name, string? ClientOrderId = null);

/// <summary>A deposit or withdrawal in USDT.</summary>
public sealed record AmountRequest(decimal? Amount, string? ClientOrderId = null);

public sealed record CreateBucketRequest(string? Name, decimal? Allocation = null, string? ClientOrderId = null, decimal? DailyLossLimit = null);

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
    /// <summary>Wick protection, an ISO 8601 duration (<c>PT2S</c>): the trigger must still hold this long after it first held.</summary>
    public string? TriggerConfirmation { get; init; }
    /// <summary>A stop-limit's or take-profit-limit's gap fallback.</summary>
    public FallbackBody? Fallback { get; init; }
}

/// <summary>
/// When a triggered stop-limit has not filled within <c>after</c> (an ISO 8601 duration) or the index
/// has run past <c>worstPrice</c>, its <c>action</c> applies: <c>market</c> or <c>cancel</c>.
/// </summary>
public sealed record FallbackBody(string? After = null, decimal? WorstPrice = null, string? Action = null);

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

/// <summary>The kill switch's scope: a bucket, or (without one) the whole account.</summary>
public sealed record KillSwitchRequest(string? BucketId = null);

/// <summary>The dead man's switch: seconds until the entry orders are cancelled; 0 disarms it.</summary>
public sealed record CancelAllAfterRequest(int? TimeoutSeconds);

/// <summary>An operator halt, optionally with the time it ends by itself.</summary>
public sealed record HaltRequest(DateTimeOffset? Until = null);
