using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Engine.Grains;

/// <summary>An account's id; also the routing key of everything the account owns.</summary>
public readonly record struct AccountId(string Value)
{
    public override string ToString() => Value;
}

/// <summary>An isolated margin bucket's id: the owning account's id plus a per-account number.</summary>
public readonly record struct BucketId(string Value)
{
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
public readonly record struct ListId(string Value)
{
    public override string ToString() => Value;

    public static ListId For(AccountId account, long number) => new($"{account.Value}-l{number}");
}
