using Engine.Grains.Instruments;

namespace Engine.Grains.Orders;

/// <summary>The latest prices the engine knows for a symbol (USDT); null where none arrived yet.</summary>
public readonly record struct Quote(decimal? Last, decimal? Index, decimal? Mark)
{
    public decimal? Of(Pricing.TriggerSource source) => source switch
    {
        Pricing.TriggerSource.Mark => Mark,
        Pricing.TriggerSource.Last => Last,
        _ => Index,
    };
}

/// <summary>
/// Where market orders execute. The embedded paper venue is deterministic; a real exchange
/// connection replaces it behind this seam.
/// </summary>
public interface IExecutionVenue
{
    /// <summary>The price a taker order of <paramref name="side"/> fills at now, or null when there is no price.</summary>
    decimal? MarketFillPrice(Instrument instrument, OrderSide side, decimal quantity, Quote quote);
}
