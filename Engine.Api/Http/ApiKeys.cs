using System.Security.Cryptography;
using System.Text;
using Engine.Grains;
using Engine.Silo.Runtime;

namespace Engine.Api.Http;

/// <summary>
/// The two kinds of key: the operator key, and account keys that act on their own account only
/// (another account's resources answer 404, as if they did not exist).
/// </summary>
public static class ApiKeys
{
    public const string Header = "X-Api-Key";

    public static bool IsOperator(HttpContext http, EngineSilo silo)
    {
        var key = http.Request.Headers[Header].ToString();
        return key.Length > 0 && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(silo.OperatorKey));
    }

    public static void RequireOperator(HttpContext http, EngineSilo silo)
    {
        if (IsOperator(http, silo)) return;
        if (AccountOf(http, silo) is not null) throw new ProblemException(404, "not_found", "not found");
        throw new ProblemException(401, "unauthorized", "a valid X-Api-Key header is required");
    }

    /// <summary>Any valid key (market data).</summary>
    public static void RequireAny(HttpContext http, EngineSilo silo)
    {
        if (IsOperator(http, silo) || AccountOf(http, silo) is not null) return;
        throw new ProblemException(401, "unauthorized", "a valid X-Api-Key header is required");
    }

    /// <summary>The path's account, when the key is that account's (or, for reads, the operator's).</summary>
    public static AccountId RequireAccount(HttpContext http, EngineSilo silo, string accountId, bool operatorAllowed = false)
    {
        if (operatorAllowed && IsOperator(http, silo)) return new AccountId(accountId);
        var caller = AccountOf(http, silo);
        if (caller is null)
        {
            if (IsOperator(http, silo)) throw new ProblemException(404, "not_found", "account not found");
            throw new ProblemException(401, "unauthorized", "a valid X-Api-Key header is required");
        }

        if (caller.Value.Value != accountId) throw new ProblemException(404, "not_found", "account not found");
        return caller.Value;
    }

    private static AccountId? AccountOf(HttpContext http, EngineSilo silo)
    {
        var key = http.Request.Headers[Header].ToString();
        return key.Length == 0 ? null : silo.Directory.Find(key);
    }
}
