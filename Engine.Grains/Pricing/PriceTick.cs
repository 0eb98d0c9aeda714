namespace Engine.Grains.Pricing;

/// <summary>One quote from one price source. Price in USDT; timestamp in UTC.</summary>
public readonly record struct PriceTick(string Source, string Symbol, decimal Price, DateTimeOffset Timestamp);

/// <summary>Which price an order's trigger watches.</summary>
public enum TriggerSource : byte
{
    Index = 0,
    Mark = 1,
    Last = 2,
}
