namespace Engine.Grains.Common;

/// <summary>Rounding of USDT amounts (margin, fees, PnL shares) to the engine's fixed scale.</summary>
public static class Money
{
    /// <summary>Decimal places kept for USDT amounts that come from division or rates.</summary>
    public const int Scale = 8;

    public static decimal Round(decimal amount) => decimal.Round(amount, Scale, MidpointRounding.AwayFromZero);
}
