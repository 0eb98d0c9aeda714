using System.Text.Json.Serialization;

namespace Engine.Grains;

/// <summary>A copy strategy's id: the leader's account id plus a per-account number (it lives on the leader's shard).</summary>
[JsonConverter(typeof(StringIdConverter<StrategyId>))]
public readonly record struct StrategyId(string Value) : IStringId<StrategyId>
{
    public static StrategyId From(string value) => new(value);

    public override string ToString() => Value;

    public static StrategyId For(AccountId leader, long number) => new($"{leader.Value}-s{number}");

    /// <summary>The leader's account, which routes the strategy to its shard; null for a malformed id.</summary>
    public AccountId? Leader
    {
        get
        {
            var cut = Value.LastIndexOf("-s", StringComparison.Ordinal);
            return cut > 0 ? new AccountId(Value[..cut]) : null;
        }
    }
}

/// <summary>A copy subscription's id: the follower's account id plus a per-account number (it lives on the follower's shard).</summary>
[JsonConverter(typeof(StringIdConverter<SubscriptionId>))]
public readonly record struct SubscriptionId(string Value) : IStringId<SubscriptionId>
{
    public static SubscriptionId From(string value) => new(value);

    public override string ToString() => Value;

    public static SubscriptionId For(AccountId follower, long number) => new($"{follower.Value}-c{number}");
}
