using System.Net;
using System.Text.Json;

namespace Engine.Tests.Api;

/// <summary>The operator endpoints: accounts, deposits and price ticks.</summary>
public sealed class OperatorApiTests(EngineApp app) : IClassFixture<EngineApp>
{
    private static Dictionary<string, string> Key(string key) => new() { ["Idempotency-Key"] = key };

    [Fact]
    public async Task CreateAccount_OperatorKey_Returns201WithIdAndWorkingApiKey()
    {
        var body = (await app.PostAsync("/v1/accounts", new { name = "alice" }, EngineApp.OperatorKey)).Status(HttpStatusCode.Created);
        var accountId = body.Str("accountId");
        var apiKey = body.Str("apiKey");
        Assert.NotEqual(accountId, apiKey);

        var account = (await app.GetAsync($"/v1/accounts/{accountId}", apiKey)).Status(HttpStatusCode.OK);
        Assert.Equal(accountId, account.Str("accountId"));
        Assert.Equal("alice", account.Str("name"));
        Assert.Equal("0", account.Str("walletBalance"));
        Assert.Equal("0", account.Str("equity"));
        var bucket = Assert.Single(account.Items("buckets"));
        Assert.Equal("manual", bucket.Str("kind"));
        Assert.Equal("0", bucket.Str("balance"));
    }

    [Fact]
    public async Task CreateAccount_TwoAccounts_GetDistinctIdsAndKeys()
    {
        var (a, aKey) = await app.CreateAccountAsync("a");
        var (b, bKey) = await app.CreateAccountAsync("b");
        Assert.NotEqual(a, b);
        Assert.NotEqual(aKey, bKey);
    }

    [Fact]
    public async Task CreateAccount_SameIdempotencyKeyAndBody_ReturnsSameResponseAndOpensOnce()
    {
        var key = Key("open-" + Guid.NewGuid().ToString("N"));
        var first = (await app.PostAsync("/v1/accounts", new { name = "carol" }, EngineApp.OperatorKey, key)).Status(HttpStatusCode.Created);
        var second = (await app.PostAsync("/v1/accounts", new { name = "carol" }, EngineApp.OperatorKey, key)).Status(HttpStatusCode.Created);

        Assert.Equal(first.GetRawText(), second.GetRawText());
        var accountId = first.Str("accountId");
        var events = (await app.GetAsync($"/v1/accounts/{accountId}/events", first.Str("apiKey"))).Status(HttpStatusCode.OK);
        Assert.Single(events.Items(), e => e.Str("type") == "accountOpened");
    }

    [Fact]
    public async Task CreateAccount_IdempotentCreation_ApiKeyNeverWrittenToTheDataFolder()
    {
        var key = Key("secret-" + Guid.NewGuid().ToString("N"));
        var created = (await app.PostAsync("/v1/accounts", new { name = "dave" }, EngineApp.OperatorKey, key)).Status(HttpStatusCode.Created);
        var apiKey = created.Str("apiKey");
        // The repeat answers the same key although only its hash was journaled.
        var repeat = (await app.PostAsync("/v1/accounts", new { name = "dave" }, EngineApp.OperatorKey, key)).Status(HttpStatusCode.Created);
        Assert.Equal(apiKey, repeat.Str("apiKey"));
        (await app.GetAsync($"/v1/accounts/{created.Str("accountId")}", apiKey)).Status(HttpStatusCode.OK);

        var needle = System.Text.Encoding.UTF8.GetBytes(apiKey);
        var files = Directory.EnumerateFiles(app.DataDirectory, "*", SearchOption.AllDirectories)
            .Where(f => System.IO.Path.GetFileName(f) is not (".lock" or "LOCK")) // empty, and held exclusively by the engine
            .ToList();
        Assert.Contains(files, f => f.EndsWith(".seg", StringComparison.Ordinal));
        foreach (var file in files)
        {
            byte[] bytes;
            using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            {
                bytes = new byte[stream.Length];
                stream.ReadExactly(bytes);
            }

            Assert.True(bytes.AsSpan().IndexOf(needle) < 0, $"the API key was found in {file}");
        }
    }

    [Fact]
    public async Task CreateAccount_SameIdempotencyKeyOtherName_Returns409AndKeepsFirstAccount()
    {
        var key = Key("open-" + Guid.NewGuid().ToString("N"));
        var first = (await app.PostAsync("/v1/accounts", new { name = "dave" }, EngineApp.OperatorKey, key)).Status(HttpStatusCode.Created);

        (await app.PostAsync("/v1/accounts", new { name = "mallory" }, EngineApp.OperatorKey, key)).Problem(HttpStatusCode.Conflict, "duplicate_client_order_id");

        var account = (await app.GetAsync($"/v1/accounts/{first.Str("accountId")}", first.Str("apiKey"))).Status(HttpStatusCode.OK);
        Assert.Equal("dave", account.Str("name"));
    }

    [Theory]
    [InlineData("{\"name\":\"\"}", "invalid_name")]
    [InlineData("{\"name\":\"   \"}", "invalid_name")]
    [InlineData("{}", "invalid_name")]
    [InlineData("{\"name\":7}", "invalid_name")]
    [InlineData("{\"name\":\"x\"", "malformed_json")]
    [InlineData("", "malformed_json")]
    public async Task CreateAccount_InvalidBody_Returns400WithCode(string body, string code)
    {
        (await app.PostAsync("/v1/accounts", body, EngineApp.OperatorKey)).Problem(HttpStatusCode.BadRequest, code);
    }

    [Fact]
    public async Task CreateAccount_NameTooLong_Returns400InvalidName()
    {
        (await app.PostAsync("/v1/accounts", new { name = new string('n', 101) }, EngineApp.OperatorKey)).Problem(HttpStatusCode.BadRequest, "invalid_name");
    }

    [Fact]
    public async Task Deposit_OperatorKey_CreditsWalletAndReturnsAccount()
    {
        var (accountId, apiKey) = await app.CreateAccountAsync();

        var answer = (await app.PostAsync($"/v1/accounts/{accountId}/deposits", new { amount = "250.5" }, EngineApp.OperatorKey)).Status(HttpStatusCode.OK);
        Assert.Equal(accountId, answer.Str("accountId"));
        Assert.Equal("250.5", answer.Str("walletBalance"));
        Assert.Equal("250.5", answer.Str("equity"));

        // Decimals are strings on the wire, but JSON numbers are accepted on input.
        (await app.PostAsync($"/v1/accounts/{accountId}/deposits", "{\"amount\": 100}", EngineApp.OperatorKey)).Status(HttpStatusCode.OK);
        var account = (await app.GetAsync($"/v1/accounts/{accountId}", apiKey)).Status(HttpStatusCode.OK);
        Assert.Equal(350.5m, account.Dec("walletBalance"));
    }

    [Fact]
    public async Task Deposit_SameIdempotencyKeyTwice_ReturnsSameResponseAndCreditsOnce()
    {
        var (accountId, apiKey) = await app.CreateAccountAsync();
        var key = Key("dep-1");

        var first = (await app.PostAsync($"/v1/accounts/{accountId}/deposits", new { amount = "100" }, EngineApp.OperatorKey, key)).Status(HttpStatusCode.OK);
        var second = (await app.PostAsync($"/v1/accounts/{accountId}/deposits", new { amount = "100" }, EngineApp.OperatorKey, key)).Status(HttpStatusCode.OK);

        Assert.Equal(first.GetRawText(), second.GetRawText());
        var account = (await app.GetAsync($"/v1/accounts/{accountId}", apiKey)).Status(HttpStatusCode.OK);
        Assert.Equal("100", account.Str("walletBalance"));
    }

    [Fact]
    public async Task Deposit_SameClientOrderIdTwice_CreditsOnce()
    {
        var (accountId, apiKey) = await app.CreateAccountAsync();

        (await app.PostAsync($"/v1/accounts/{accountId}/deposits", new { amount = "40", clientOrderId = "d1" }, EngineApp.OperatorKey)).Status(HttpStatusCode.OK);
        (await app.PostAsync($"/v1/accounts/{accountId}/deposits", new { amount = "40", clientOrderId = "d1" }, EngineApp.OperatorKey)).Status(HttpStatusCode.OK);

        var account = (await app.GetAsync($"/v1/accounts/{accountId}", apiKey)).Status(HttpStatusCode.OK);
        Assert.Equal("40", account.Str("walletBalance"));
    }

    [Fact]
    public async Task Deposit_SameIdempotencyKeyOtherAmount_Returns409AndChangesNothing()
    {
        var (accountId, apiKey) = await app.CreateAccountAsync();
        var key = Key("dep-2");
        (await app.PostAsync($"/v1/accounts/{accountId}/deposits", new { amount = "100" }, EngineApp.OperatorKey, key)).Status(HttpStatusCode.OK);
        var before = await app.SnapshotAsync(accountId, apiKey);

        (await app.PostAsync($"/v1/accounts/{accountId}/deposits", new { amount = "999" }, EngineApp.OperatorKey, key))
            .Problem(HttpStatusCode.Conflict, "duplicate_client_order_id");

        Assert.Equal(before, await app.SnapshotAsync(accountId, apiKey));
    }

    [Theory]
    [InlineData("{\"amount\":\"0\"}")]
    [InlineData("{\"amount\":\"-5\"}")]
    [InlineData("{\"amount\":-5}")]
    [InlineData("{\"amount\":\"10000000000000\"}")]
    [InlineData("{\"amount\":\"1e400\"}")]
    [InlineData("{\"amount\":1e400}")]
    [InlineData("{\"amount\":99999999999999999999999999999}")]
    [InlineData("{\"amount\":true}")]
    [InlineData("{\"amount\":\"ten\"}")]
    [InlineData("{}")]
    public async Task Deposit_InvalidAmount_Returns400InvalidAmountAndChangesNothing(string body)
    {
        var (accountId, apiKey) = await app.CreateAccountAsync();
        await app.DepositAsync(accountId, "10");
        var before = await app.SnapshotAsync(accountId, apiKey);

        (await app.PostAsync($"/v1/accounts/{accountId}/deposits", body, EngineApp.OperatorKey)).Problem(HttpStatusCode.BadRequest, "invalid_amount");

        Assert.Equal(before, await app.SnapshotAsync(accountId, apiKey));
    }

    [Fact]
    public async Task Deposit_UnknownAccount_Returns404NotFound()
    {
        (await app.PostAsync("/v1/accounts/a0000000000000000/deposits", new { amount = "10" }, EngineApp.OperatorKey))
            .Problem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Deposit_AccountsOwnKey_Returns404AndChangesNothing()
    {
        var (accountId, apiKey) = await app.CreateAccountAsync();
        var before = await app.SnapshotAsync(accountId, apiKey);

        (await app.PostAsync($"/v1/accounts/{accountId}/deposits", new { amount = "10" }, apiKey)).Problem(HttpStatusCode.NotFound, "not_found");

        Assert.Equal(before, await app.SnapshotAsync(accountId, apiKey));
    }

    [Fact]
    public async Task PostPrices_TwoSources_AcceptsBothAndIndexIsTheirMedian()
    {
        var ticks = new[]
        {
            new { source = "venue-a", symbol = "BNB-USDT", price = "600.00" },
            new { source = "venue-b", symbol = "BNB-USDT", price = "600.02" },
        };
        var answer = (await app.PostAsync("/v1/prices", new { ticks }, EngineApp.OperatorKey)).Status(HttpStatusCode.OK);
        Assert.Equal(2, answer.GetProperty("accepted").GetInt32());

        var price = (await app.GetAsync("/v1/prices/BNB-USDT", EngineApp.OperatorKey)).Status(HttpStatusCode.OK);
        Assert.Equal("600.02", price.Str("last"));
        Assert.Equal(600.01m, price.Dec("index"));
        Assert.False(price.GetProperty("degraded").GetBoolean());
        var sources = price.Items("sources");
        Assert.Equal(["venue-a", "venue-b"], sources.Select(s => s.Str("source")).ToArray());
        Assert.All(sources, s => Assert.True(s.GetProperty("included").GetBoolean()));
    }

    [Fact]
    public async Task PostPrices_TickWithoutTimestamp_IsStampedWithTheEngineClock()
    {
        await app.SetPriceAsync("XRP-USDT", "0.5123");

        var price = (await app.GetAsync("/v1/prices/XRP-USDT", EngineApp.OperatorKey)).Status(HttpStatusCode.OK);
        var source = Assert.Single(price.Items("sources"));
        Assert.Equal(app.Clock.GetUtcNow(), source.GetProperty("timestamp").GetDateTimeOffset());
    }

    [Fact]
    public async Task PostPrices_TimestampFarAheadOfEngineClock_Returns400AndSourceStillAcceptsTicks()
    {
        var future = app.Clock.GetUtcNow().AddDays(1);
        var ticks = new[] { new { source = "skewed", symbol = "OP-USDT", price = "1.5", timestamp = future } };

        (await app.PostAsync("/v1/prices", new { ticks }, EngineApp.OperatorKey)).Problem(HttpStatusCode.BadRequest, "invalid_timestamp");

        // Had the future tick been taken, this correctly stamped one would be ignored as older.
        var now = new[] { new { source = "skewed", symbol = "OP-USDT", price = "1.6", timestamp = app.Clock.GetUtcNow() } };
        (await app.PostAsync("/v1/prices", new { ticks = now }, EngineApp.OperatorKey)).Status(HttpStatusCode.OK);
        var price = (await app.GetAsync("/v1/prices/OP-USDT", EngineApp.OperatorKey)).Status(HttpStatusCode.OK);
        Assert.Equal("1.6", price.Str("index"));
    }

    [Theory]
    [InlineData("{\"ticks\":[]}", "invalid_ticks")]
    [InlineData("{}", "invalid_ticks")]
    [InlineData("{\"ticks\":[{\"source\":\"test\",\"symbol\":\"DOGE-USDT\",\"price\":\"1\"}]}", "unknown_symbol")]
    [InlineData("{\"ticks\":[{\"source\":\"test\",\"price\":\"1\"}]}", "unknown_symbol")]
    [InlineData("{\"ticks\":[{\"symbol\":\"POL-USDT\",\"price\":\"1\"}]}", "invalid_source")]
    [InlineData("{\"ticks\":[{\"source\":\"\",\"symbol\":\"POL-USDT\",\"price\":\"1\"}]}", "invalid_source")]
    [InlineData("{\"ticks\":[{\"source\":\"test\",\"symbol\":\"POL-USDT\",\"price\":\"0\"}]}", "invalid_price")]
    [InlineData("{\"ticks\":[{\"source\":\"test\",\"symbol\":\"POL-USDT\",\"price\":\"-1\"}]}", "invalid_price")]
    [InlineData("{\"ticks\":[{\"source\":\"test\",\"symbol\":\"POL-USDT\"}]}", "invalid_price")]
    [InlineData("{\"ticks\":[{\"source\":\"test\",\"symbol\":\"POL-USDT\",\"price\":\"1e400\"}]}", "invalid_price")]
    [InlineData("{\"ticks\":[{\"source\":\"test\",\"symbol\":\"POL-USDT\",\"price\":\"1000000000000\"}]}", "invalid_price")]
    [InlineData("{\"ticks\":[{\"source\":\"test\",\"symbol\":\"POL-USDT\",\"price\":\"1\",\"timestamp\":\"yesterday\"}]}", "invalid_timestamp")]
    [InlineData("{\"ticks\":[{\"source\":\"test\",\"symbol\":\"POL-USDT\",\"price\":\"1\"}]", "malformed_json")]
    public async Task PostPrices_InvalidTick_Returns400WithCode(string body, string code)
    {
        (await app.PostAsync("/v1/prices", body, EngineApp.OperatorKey)).Problem(HttpStatusCode.BadRequest, code);
        var price = (await app.GetAsync("/v1/prices/POL-USDT", EngineApp.OperatorKey)).Status(HttpStatusCode.OK);
        Assert.Null(price.OptStr("last"));
    }

    [Fact]
    public async Task PostPrices_OneBadTickInBatch_AppliesNone()
    {
        await app.SetPriceAsync("ARB-USDT", "0.8");
        var ticks = new object[]
        {
            new { source = "test", symbol = "ARB-USDT", price = "0.9" },
            new { source = "test", symbol = "ARB-USDT", price = "-1" },
        };

        (await app.PostAsync("/v1/prices", new { ticks }, EngineApp.OperatorKey)).Problem(HttpStatusCode.BadRequest, "invalid_price");

        var price = (await app.GetAsync("/v1/prices/ARB-USDT", EngineApp.OperatorKey)).Status(HttpStatusCode.OK);
        Assert.Equal("0.8", price.Str("last"));
    }

    [Theory]
    [InlineData("/v1/accounts")]
    [InlineData("/v1/accounts/{self}/deposits")]
    [InlineData("/v1/prices")]
    public async Task OperatorEndpoint_AccountKey_Returns404NotFoundAndChangesNothing(string template)
    {
        var (accountId, apiKey) = await app.CreateAccountAsync();
        await app.SetPriceAsync("RENDER-USDT", "7.5");
        var before = await app.SnapshotAsync(accountId, apiKey);
        object body = template switch
        {
            "/v1/accounts" => new { name = "sneaky" },
            "/v1/prices" => new { ticks = new[] { new { source = "test", symbol = "RENDER-USDT", price = "1" } } },
            _ => new { amount = "1000" },
        };

        (await app.PostAsync(template.Replace("{self}", accountId), body, apiKey)).Problem(HttpStatusCode.NotFound, "not_found");

        Assert.Equal(before, await app.SnapshotAsync(accountId, apiKey));
        var price = (await app.GetAsync("/v1/prices/RENDER-USDT", apiKey)).Status(HttpStatusCode.OK);
        Assert.Equal("7.5", price.Str("last"));
    }

    [Fact]
    public async Task CreateAccount_IdempotencyKeyTooLong_Returns400()
    {
        (await app.PostAsync("/v1/accounts", new { name = "x" }, EngineApp.OperatorKey, Key(new string('k', 65))))
            .Problem(HttpStatusCode.BadRequest, "invalid_idempotency_key");
    }

    [Fact]
    public async Task Engine_TestConfiguration_UsesTheTemporaryDataDirectory()
    {
        await app.CreateAccountAsync();
        Assert.True(File.Exists(Path.Combine(app.DataDirectory, "engine.json")));
        using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(app.DataDirectory, "engine.json")));
        Assert.Equal(2, doc.RootElement.GetProperty("shards").GetInt32());
    }
}
