using System.Text.Json.Serialization;

namespace Engine.Grains;

/// <summary>A trade plan's id: the owning account's id plus a per-account number.</summary>
[JsonConverter(typeof(StringIdConverter<PlanId>))]
public readonly record struct PlanId(string Value) : IStringId<PlanId>
{
    public static PlanId From(string value) => new(value);

    public override string ToString() => Value;

    public static PlanId For(AccountId account, long number) => new($"{account.Value}-p{number}");
}
