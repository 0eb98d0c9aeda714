namespace Engine.Grains.Instruments;

/// <summary>
/// A linear USDT-margined perpetual. Prices are in USDT per unit, quantities in units of the base
/// asset; rates are fractions (0.0005 = 5 bp). Fee rates are positive costs.
/// </summary>
public sealed record Instrument(
    string Symbol,
    decimal TickSize,
    decimal LotStep,
    decimal MinQuantity,
    decimal MinNotional,
    int MaxLeverage,
    decimal MaintenanceMarginRate,
    decimal MakerFeeRate,
    decimal TakerFeeRate)
{
    public bool IsOnTick(decimal price) => price % TickSize == 0m;

    public bool IsOnLot(decimal quantity) => quantity % LotStep == 0m;

    /// <summary>Rounds a price down to the tick grid.</summary>
    public decimal FloorToTick(decimal price) => decimal.Floor(price / TickSize) * TickSize;

    /// <summary>Rounds a price up to the tick grid.</summary>
    public decimal CeilToTick(decimal price) => decimal.Ceiling(price / TickSize) * TickSize;

    /// <summary>Rounds a price to the nearest tick (midpoint away from zero).</summary>
    public decimal RoundToTick(decimal price) =>
        decimal.Round(price / TickSize, 0, MidpointRounding.AwayFromZero) * TickSize;

    /// <summary>Rounds a quantity down to the lot step.</summary>
    public decimal FloorToLot(decimal quantity) => decimal.Floor(quantity / LotStep) * LotStep;
}
