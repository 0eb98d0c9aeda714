using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Engine.Api.Contracts;
using Engine.Api.Http;
using Engine.Grains;
using Engine.Grains.Pricing;
using Engine.Silo.Runtime;

namespace Engine.Api.Endpoints;

public static class OperatorEndpoints
{
    /// <summary>Most ticks one request may carry.</summary>
    public const int MaxTicks = 10_000;

    /// <summary>
    /// How far ahead of the engine clock a tick may be stamped (feeds' clocks drift). A tick from further
    /// ahead would stay fresh for that long and make the source ignore every correctly stamped tick after it.
    /// </summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromSeconds(60);

    public static void Map(IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").WithTags("Operator");

        v1.MapPost("/accounts", async (HttpContext http, EngineSilo silo) =>
        {
            ApiKeys.RequireOperator(http, silo);
            var body = await RequestBody.ReadAsync<CreateAccountRequest>(http);
            var key = RequestBody.IdempotencyKey(http, body.ClientOrderId);
            // A repeated creation must reach the same account: its id is derived from the key.
            var accountId = key is null
                ? "a" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))
                : "a" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("account:" + key)))[..16];
            var apiKey = silo.Directory.KeyFor(new AccountId(accountId));
            var command = new OpenAccount(body.Name ?? "", AccountDirectory.Hash(apiKey)) { Account = new AccountId(accountId) };
            // The stored response leaves the key out (the journal holds only its hash); a repeat derives it again.
            var idem = key is null
                ? null
                : new IdempotencyRequest(key, RequestBody.HashOf(RequestBody.Scoped(http, body)), 201,
                    _ => JsonSerializer.Serialize(new { accountId }, ApiJson.Options));
            var outcome = await silo.SendAsync(new CommandEnvelope(command, null, idem));
            if (outcome.Result.Rejection is { } rejection) return Problems.Of(rejection);
            return Results.Json(new CreatedAccountResponse(accountId, apiKey), ApiJson.Options, statusCode: 201);
        })
        .Accepts<CreateAccountRequest>("application/json")
        .Produces<CreatedAccountResponse>(201)
        .WithSummary("Creates an account (operator key); the account's API key is returned once.");

        v1.MapPost("/accounts/{accountId}/deposits", async (HttpContext http, EngineSilo silo, string accountId) =>
        {
            ApiKeys.RequireOperator(http, silo);
            var body = await RequestBody.ReadAsync<AmountRequest>(http);
            if (body.Amount is not { } amount) throw new ProblemException(400, "invalid_amount", "amount is required");
            var command = new Deposit(amount) { Account = new AccountId(accountId) };
            return await Send.CommandAsync(silo, command, 200, (g, _) => Views.Account(g, g.FindAccount(command.Account)!),
                RequestBody.IdempotencyKey(http, body.ClientOrderId), RequestBody.Scoped(http, body));
        })
        .Accepts<AmountRequest>("application/json")
        .Produces<AccountResponse>()
        .WithSummary("Credits USDT to an account's wallet (operator key).");

        v1.MapPost("/prices", async (HttpContext http, EngineSilo silo, TimeProvider time) =>
        {
            ApiKeys.RequireOperator(http, silo);
            var body = await RequestBody.ReadAsync<TicksRequest>(http);
            if (body.Ticks is not { Count: > 0 and <= MaxTicks } ticks)
                throw new ProblemException(400, "invalid_ticks", $"ticks must hold 1 to {MaxTicks} ticks");
            var now = time.GetUtcNow();
            var parsed = new PriceTick[ticks.Count];
            for (var i = 0; i < ticks.Count; i++)
            {
                var t = ticks[i];
                if (string.IsNullOrWhiteSpace(t.Source) || t.Source.Length > 64)
                    throw new ProblemException(400, "invalid_source", $"ticks[{i}].source must be 1 to 64 characters");
                if (t.Symbol is null || silo.Instruments.Find(t.Symbol) is null)
                    throw new ProblemException(400, "unknown_symbol", $"ticks[{i}].symbol is not a known symbol");
                if (t.Price is not { } price || price <= 0m || price > ShardGrains.MaxNumber)
                    throw new ProblemException(400, "invalid_price", $"ticks[{i}].price must be greater than 0 and at most {ShardGrains.MaxNumber}");
                if (t.Timestamp is { } stamp && stamp > now + MaxClockSkew)
                    throw new ProblemException(400, "invalid_timestamp", $"ticks[{i}].timestamp is more than {MaxClockSkew.TotalSeconds} s ahead of the engine clock");
                parsed[i] = new PriceTick(t.Source, t.Symbol, price, t.Timestamp ?? now);
            }

            return Results.Json(new AcceptedTicksResponse(silo.Prices.Ingest(parsed)), ApiJson.Options);
        })
        .Accepts<TicksRequest>("application/json")
        .Produces<AcceptedTicksResponse>()
        .WithSummary("Feeds price ticks from any number of sources (operator key).");
    }
}
