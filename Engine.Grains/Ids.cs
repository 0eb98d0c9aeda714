using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Engine.Grains;

/// <summary>An account's id; also the routing key of everything the account owns.</summary>
[JsonConverter(typeof(StringIdConverter<AccountId>))]
public readonly record struct AccountId(string Value) : IStringId<AccountId>
{
    public static AccountId From(string value) => new(value);

    public override string ToString() => Value;
}

/// <summary>An isolated margin bucket's id: the owning account's id plus a per-account number.</summary>
[JsonConverter(typeof(StringIdConverter<BucketId>))]
public readonly record struct BucketId(string Value) : IStringId<BucketId>
{
    public static BucketId From(string value) => new(value);

    public override string ToString() => Value;

    public static BucketId For(AccountId account, long number) => new($"{account.Value}-b{number}");
}

/// <summary>
/// An order's id. The number is unique within the shard that owns the account, which lets the
/// trigger book key entries by a plain long; the string form carries the account so that an id
/// is globally unique and opaque to clients.
/// </summary>
public readonly record struct OrderId(AccountId Account, long Number)
{
    public override string ToString() => $"{Account.Value}-o{Number.ToString(CultureInfo.InvariantCulture)}";

    public static bool TryParse(string text, [NotNullWhen(true)] out OrderId? id)
    {
        id = null;
        var cut = text.LastIndexOf("-o", StringComparison.Ordinal);
        if (cut <= 0 || !long.TryParse(text.AsSpan(cut + 2), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0)
            return false;
        id = new OrderId(new AccountId(text[..cut]), n);
        return true;
    }
}

/// <summary>An order list's id (oco, oto, bracket, straddle).</summary>
[JsonConverter(typeof(StringIdConverter<ListId>))]
public readonly record struct ListId(string Value) : IStringId<ListId>
{
    public static ListId From(string value) => new(value);

    public override string ToString() => Value;

    public static ListId For(AccountId account, long number) => new($"{account.Value}-l{number}");
}

/// <summary>An id that travels as a bare JSON string.</summary>
public interface IStringId<TSelf> where TSelf : IStringId<TSelf>
{
    string Value { get; }

    static abstract TSelf From(string value);
}

public sealed class StringIdConverter<T> : JsonConverter<T> where T : IStringId<T>
{
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        T.From(reader.GetString() ?? throw new JsonException("id expected"));

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(value.Value);
}
