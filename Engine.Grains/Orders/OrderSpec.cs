using System.Text.Json.Serialization;
using Engine.Grains.Pricing;
using Engine.Grains.Risk;

namespace Engine.Grains.Orders;

/// <summary>
/// Everything fixed about an order when it is accepted. Prices in USDT, quantity in base units;
/// <see cref="CallbackRate"/> and <see cref="ParentDistance"/> are fractions (0.01 = 1%).
/// </summary>
/// <remarks>
/// A million orders may rest at once, so the fields most orders leave empty (trailing, expiry,
/// client id, list membership) live in <see cref="TrailingSpec"/> and <see cref="OrderSpecExtras"/>
/// records created only when one of their fields is set: a plain stop costs no room for them.
/// </remarks>
public sealed record OrderSpec
{
    // Copy on write: a `with` copy shares these records until one of their fields is set.
    private TrailingSpec? _trailing;
    private OrderSpecExtras? _extras;

    // Optional prices as a value plus a presence bit, and the flags in one byte: 16 bytes less per
    // order than decimal? fields and separate bools.
    private decimal _price;
    private decimal _triggerPrice;
    private SpecFlags _flags;

    public required long Number { get; init; }
    public required BucketId Bucket { get; init; }
    public required string Symbol { get; init; }
    public required OrderSide Side { get; init; }
    public required OrderType Type { get; init; }
    /// <summary>Zero for a close-position order and for children sized from their parent's fill.</summary>
    public decimal Quantity { get; init; }
    public decimal? Price { get => Has(SpecFlags.Price) ? _price : null; init => _price = Set(SpecFlags.Price, value); }
    public decimal? TriggerPrice { get => Has(SpecFlags.TriggerPrice) ? _triggerPrice : null; init => _triggerPrice = Set(SpecFlags.TriggerPrice, value); }
    public TriggerSource TriggerBy { get; init; }
    public TimeInForce TimeInForce { get; init; }
    public bool ReduceOnly { get => Has(SpecFlags.ReduceOnly); init => Set(SpecFlags.ReduceOnly, value); }
    public bool ClosePosition { get => Has(SpecFlags.ClosePosition); init => Set(SpecFlags.ClosePosition, value); }
    /// <summary>When true, the quantity is the parent's filled quantity (bracket and straddle exits).</summary>
    public bool SizeFromParent { get => Has(SpecFlags.SizeFromParent); init => Set(SpecFlags.SizeFromParent, value); }

    public decimal? CallbackRate { get => _trailing?.CallbackRate; init { if (value is not null || _trailing is not null) _trailing = (_trailing ?? TrailingSpec.None) with { CallbackRate = value }; } }
    public decimal? CallbackAmount { get => _trailing?.CallbackAmount; init { if (value is not null || _trailing is not null) _trailing = (_trailing ?? TrailingSpec.None) with { CallbackAmount = value }; } }
    public decimal? ActivationPrice { get => _trailing?.ActivationPrice; init { if (value is not null || _trailing is not null) _trailing = (_trailing ?? TrailingSpec.None) with { ActivationPrice = value }; } }
    public DateTimeOffset? ExpireAt { get => _extras?.ExpireAt; init { if (value is not null || _extras is not null) _extras = (_extras ?? OrderSpecExtras.None) with { ExpireAt = value }; } }
    public string? ClientOrderId { get => _extras?.ClientOrderId; init { if (value is not null || _extras is not null) _extras = (_extras ?? OrderSpecExtras.None) with { ClientOrderId = value }; } }
    public ListId? List { get => _extras?.List; init { if (value is not null || _extras is not null) _extras = (_extras ?? OrderSpecExtras.None) with { List = value }; } }
    /// <summary>The order whose complete fill arms this one (OTO secondary, bracket and straddle exits).</summary>
    public long? Parent { get => _extras?.Parent; init { if (value is not null || _extras is not null) _extras = (_extras ?? OrderSpecExtras.None) with { Parent = value }; } }
    /// <summary>The other leg of this order's one-cancels-the-other pair.</summary>
    public long? OcoSibling { get => _extras?.OcoSibling; init { if (value is not null || _extras is not null) _extras = (_extras ?? OrderSpecExtras.None) with { OcoSibling = value }; } }
    /// <summary>When set, the trigger price is this fraction away from the parent's average fill price.</summary>
    public decimal? ParentDistance { get => _extras?.ParentDistance; init { if (value is not null || _extras is not null) _extras = (_extras ?? OrderSpecExtras.None) with { ParentDistance = value }; } }
    /// <summary>Wick protection and the stop-limit gap fallback; null for most orders.</summary>
    public OrderRiskSpec? Risk { get => _extras?.Risk; init { if (value is not null || _extras is not null) _extras = (_extras ?? OrderSpecExtras.None) with { Risk = value }; } }

    [JsonIgnore]
    public TimeSpan? TriggerConfirmation => _extras?.Risk?.TriggerConfirmation;

    [JsonIgnore]
    public OrderFallback? Fallback => _extras?.Risk?.Fallback;

    private bool Has(SpecFlags flag) => (_flags & flag) != 0;

    private void Set(SpecFlags flag, bool on) => _flags = on ? _flags | flag : _flags & ~flag;

    private decimal Set(SpecFlags flag, decimal? value)
    {
        Set(flag, value.HasValue);
        return value.GetValueOrDefault();
    }

    [Flags]
    private enum SpecFlags : byte
    {
        Price = 1,
        TriggerPrice = 2,
        ReduceOnly = 4,
        ClosePosition = 8,
        SizeFromParent = 16,
    }
}

/// <summary>The order fields most orders leave empty; see <see cref="OrderSpec"/>.</summary>
public sealed record OrderSpecExtras
{
    public static OrderSpecExtras None { get; } = new();

    public DateTimeOffset? ExpireAt { get; init; }
    public string? ClientOrderId { get; init; }
    public ListId? List { get; init; }
    public long? Parent { get; init; }
    public long? OcoSibling { get; init; }
    public decimal? ParentDistance { get; init; }
    public OrderRiskSpec? Risk { get; init; }
}

/// <summary>A trailing stop's callback (a rate or an amount) and optional activation price.</summary>
public sealed record TrailingSpec
{
    public static TrailingSpec None { get; } = new();

    // Values plus presence bits: 16 bytes less than three decimal? fields.
    private decimal _callbackRate;
    private decimal _callbackAmount;
    private decimal _activationPrice;
    private byte _present;

    public decimal? CallbackRate { get => Get(1, _callbackRate); init => _callbackRate = Set(1, value); }
    public decimal? CallbackAmount { get => Get(2, _callbackAmount); init => _callbackAmount = Set(2, value); }
    public decimal? ActivationPrice { get => Get(4, _activationPrice); init => _activationPrice = Set(4, value); }

    private decimal? Get(byte bit, decimal value) => (_present & bit) != 0 ? value : null;

    private decimal Set(byte bit, decimal? value)
    {
        _present = value.HasValue ? (byte)(_present | bit) : (byte)(_present & ~bit);
        return value.GetValueOrDefault();
    }
}
