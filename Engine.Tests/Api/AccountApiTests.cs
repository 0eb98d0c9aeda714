using System.Net;

namespace Engine.Tests.Api;

/// <summary>The account, withdrawals, buckets, transfers and leverage.</summary>
public sealed class AccountApiTests(EngineApp app) : IClassFixture<EngineApp>
{
    private static Dictionary<string, string> Key(string key) => new() { ["Idempotency-Key"] = key };

    [Fact]
    public async Task GetAccount_OwnKey_ReturnsWalletEquityAndBuckets()
    {
        var t = await app.CreateTraderAsync("erin", wallet: "10000", bucket: "4000");

        var account = (await app.GetAsync(t.Path, t.ApiKey)).Status(HttpStatusCode.OK);

        Assert.Equal(t.AccountId, account.Str("accountId"));
        Assert.Equal("erin", account.Str("name"));
        Assert.Equal("6000", account.Str("walletBalance"));
        Assert.Equal(10000m, account.Dec("equity"));
        var bucket = Assert.Single(account.Items("buckets"));
        Assert.Equal(t.BucketId, bucket.Str("bucketId"));
        Assert.Equal("manual", bucket.Str("name"));
        Assert.Equal("manual", bucket.Str("kind"));
        Assert.Equal("4000", bucket.Str("balance"));
        Assert.Equal("0", bucket.Str("usedMargin"));
        Assert.Equal("4000", bucket.Str("available"));
        Assert.Equal(4000m, bucket.Dec("equity"));
        Assert.Equal(0m, bucket.Dec("unrealizedPnl"));
        Assert.Equal(0m, bucket.Dec("realizedPnl"));
        Assert.False(bucket.GetProperty("locked").GetBoolean());
        Assert.Empty(bucket.Items("positions"));
    }

    [Fact]
    public async Task GetAccount_OperatorKey_Returns200()
    {
        var t = await app.CreateTraderAsync();
        var account = (await app.GetAsync(t.Path, EngineApp.OperatorKey)).Status(HttpStatusCode.OK);
        Assert.Equal(t.AccountId, account.Str("accountId"));
    }

    [Fact]
    public async Task GetAccount_OperatorKeyUnknownAccount_Returns404()
    {
        (await app.GetAsync("/v1/accounts/a0000000000000001", EngineApp.OperatorKey)).Problem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Withdraw_WithinWallet_DebitsWalletAndReturnsAccount()
    {
        var t = await app.CreateTraderAsync(wallet: "10000", bucket: "5000");

        var account = (await app.PostAsync($"{t.Path}/withdrawals", new { amount = "1000.25" }, t.ApiKey)).Status(HttpStatusCode.OK);

        Assert.Equal(t.AccountId, account.Str("accountId"));
        Assert.Equal(3999.75m, account.Dec("walletBalance"));
        Assert.Equal("5000", account.Items("buckets")[0].Str("balance"));
    }

    [Fact]
    public async Task Withdraw_MoreThanWallet_Returns422InsufficientBalanceAndChangesNothing()
    {
        var t = await app.CreateTraderAsync(wallet: "10000", bucket: "5000");
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);

        // The bucket's funds are not in the wallet: only 5000 can leave.
        (await app.PostAsync($"{t.Path}/withdrawals", new { amount = "5000.01" }, t.ApiKey)).Problem(HttpStatusCode.UnprocessableEntity, "insufficient_balance");

        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
    }

    [Theory]
    [InlineData("{\"amount\":\"0\"}", "invalid_amount")]
    [InlineData("{\"amount\":\"-1\"}", "invalid_amount")]
    [InlineData("{\"amount\":\"abc\"}", "invalid_amount")]
    [InlineData("{\"amount\":\"1e400\"}", "invalid_amount")]
    [InlineData("{}", "invalid_amount")]
    [InlineData("{\"amount\":", "malformed_json")]
    public async Task Withdraw_InvalidBody_Returns400AndChangesNothing(string body, string code)
    {
        var t = await app.CreateTraderAsync();
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);

        (await app.PostAsync($"{t.Path}/withdrawals", body, t.ApiKey)).Problem(HttpStatusCode.BadRequest, code);

        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
    }

    [Fact]
    public async Task Withdraw_OperatorKey_Returns404AndChangesNothing()
    {
        var t = await app.CreateTraderAsync();
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);

        (await app.PostAsync($"{t.Path}/withdrawals", new { amount = "10" }, EngineApp.OperatorKey)).Problem(HttpStatusCode.NotFound, "not_found");

        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
    }

    [Fact]
    public async Task Withdraw_SameIdempotencyKeyTwice_DebitsOnce()
    {
        var t = await app.CreateTraderAsync(wallet: "10000", bucket: "5000");

        var first = (await app.PostAsync($"{t.Path}/withdrawals", new { amount = "100" }, t.ApiKey, Key("w-1"))).Status(HttpStatusCode.OK);
        var second = (await app.PostAsync($"{t.Path}/withdrawals", new { amount = "100" }, t.ApiKey, Key("w-1"))).Status(HttpStatusCode.OK);

        Assert.Equal(first.GetRawText(), second.GetRawText());
        var account = (await app.GetAsync(t.Path, t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal("4900", account.Str("walletBalance"));
    }

    [Fact]
    public async Task Withdraw_IdempotencyKeyAlreadyUsedByADeposit_IsNotAnsweredWithTheDeposit()
    {
        var t = await app.CreateTraderAsync(wallet: "10000", bucket: "5000");
        (await app.PostAsync($"{t.Path}/deposits", new { amount = "100" }, EngineApp.OperatorKey, Key("shared-1"))).Status(HttpStatusCode.OK);
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);

        // Same key and same body, but another endpoint: not a repeat of the deposit.
        (await app.PostAsync($"{t.Path}/withdrawals", new { amount = "100" }, t.ApiKey, Key("shared-1")))
            .Problem(HttpStatusCode.Conflict, "duplicate_client_order_id");

        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
    }

    [Fact]
    public async Task CreateBucket_WithAllocation_Returns201AndMovesFundsFromWallet()
    {
        var t = await app.CreateTraderAsync(wallet: "10000", bucket: "5000");

        var bucket = (await app.PostAsync($"{t.Path}/buckets", new { name = "swing", allocation = "1200.5" }, t.ApiKey)).Status(HttpStatusCode.Created);

        Assert.NotEqual(t.BucketId, bucket.Str("bucketId"));
        Assert.Equal("swing", bucket.Str("name"));
        Assert.Equal("manual", bucket.Str("kind"));
        Assert.Equal("1200.5", bucket.Str("balance"));
        Assert.Equal("1200.5", bucket.Str("available"));
        Assert.Equal("0", bucket.Str("usedMargin"));
        Assert.Empty(bucket.Items("positions"));
        var account = (await app.GetAsync(t.Path, t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal(3799.5m, account.Dec("walletBalance"));
        Assert.Equal(10000m, account.Dec("equity"));
    }

    [Fact]
    public async Task CreateBucket_NoAllocation_CreatesEmptyBucket()
    {
        var t = await app.CreateTraderAsync();
        var bucket = (await app.PostAsync($"{t.Path}/buckets", new { name = "empty" }, t.ApiKey)).Status(HttpStatusCode.Created);
        Assert.Equal("0", bucket.Str("balance"));
    }

    [Fact]
    public async Task CreateBucket_SameIdempotencyKeyTwice_CreatesOneBucket()
    {
        var t = await app.CreateTraderAsync();

        var first = (await app.PostAsync($"{t.Path}/buckets", new { name = "b", allocation = "10" }, t.ApiKey, Key("bk-1"))).Status(HttpStatusCode.Created);
        var second = (await app.PostAsync($"{t.Path}/buckets", new { name = "b", allocation = "10" }, t.ApiKey, Key("bk-1"))).Status(HttpStatusCode.Created);

        Assert.Equal(first.Str("bucketId"), second.Str("bucketId"));
        var buckets = (await app.GetAsync($"{t.Path}/buckets", t.ApiKey)).Status(HttpStatusCode.OK).Items();
        Assert.Equal(2, buckets.Length);
    }

    [Fact]
    public async Task CreateBucket_AllocationAboveWallet_Returns422InsufficientBalanceAndChangesNothing()
    {
        var t = await app.CreateTraderAsync(wallet: "10000", bucket: "5000");
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);

        (await app.PostAsync($"{t.Path}/buckets", new { name = "big", allocation = "5000.01" }, t.ApiKey)).Problem(HttpStatusCode.UnprocessableEntity, "insufficient_balance");

        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
    }

    [Theory]
    [InlineData("{\"name\":\"\",\"allocation\":\"1\"}", "invalid_name")]
    [InlineData("{\"allocation\":\"1\"}", "invalid_name")]
    [InlineData("{\"name\":\"x\",\"allocation\":\"-1\"}", "invalid_allocation")]
    [InlineData("{\"name\":\"x\",\"allocation\":\"1e400\"}", "invalid_allocation")]
    [InlineData("{\"name\":\"x\",\"allocation\":[]}", "invalid_allocation")]
    public async Task CreateBucket_InvalidBody_Returns400AndChangesNothing(string body, string code)
    {
        var t = await app.CreateTraderAsync();
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);

        (await app.PostAsync($"{t.Path}/buckets", body, t.ApiKey)).Problem(HttpStatusCode.BadRequest, code);

        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
    }

    [Fact]
    public async Task ListBuckets_TwoBuckets_ReturnsBothInCreationOrder()
    {
        var t = await app.CreateTraderAsync();
        var created = (await app.PostAsync($"{t.Path}/buckets", new { name = "second", allocation = "10" }, t.ApiKey)).Status(HttpStatusCode.Created);

        var buckets = (await app.GetAsync($"{t.Path}/buckets", t.ApiKey)).Status(HttpStatusCode.OK).Items();

        Assert.Equal([t.BucketId, created.Str("bucketId")], buckets.Select(b => b.Str("bucketId")).ToArray());
        Assert.Equal(["manual", "second"], buckets.Select(b => b.Str("name")).ToArray());
    }

    [Fact]
    public async Task GetBucket_ById_ReturnsTheBucket()
    {
        var t = await app.CreateTraderAsync(bucket: "5000");

        var bucket = (await app.GetAsync($"{t.Path}/buckets/{t.BucketId}", t.ApiKey)).Status(HttpStatusCode.OK);

        Assert.Equal(t.BucketId, bucket.Str("bucketId"));
        Assert.Equal("5000", bucket.Str("balance"));
        Assert.Equal("manual", bucket.Str("kind"));
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("{self}-b99")]
    public async Task GetBucket_Unknown_Returns404(string bucket)
    {
        var t = await app.CreateTraderAsync();
        (await app.GetAsync($"{t.Path}/buckets/{bucket.Replace("{self}", t.AccountId)}", t.ApiKey)).Problem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Transfer_InThenOut_MovesFundsBetweenWalletAndBucket()
    {
        var t = await app.CreateTraderAsync(wallet: "10000", bucket: "0");

        var afterIn = (await app.PostAsync($"{t.Path}/buckets/{t.BucketId}/transfers", new { direction = "in", amount = "750.75" }, t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal(t.BucketId, afterIn.Str("bucketId"));
        Assert.Equal("750.75", afterIn.Str("balance"));

        var afterOut = (await app.PostAsync($"{t.Path}/buckets/{t.BucketId}/transfers", new { direction = "out", amount = "0.75" }, t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal(750m, afterOut.Dec("balance"));

        var account = (await app.GetAsync(t.Path, t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal(9250m, account.Dec("walletBalance"));
    }

    [Fact]
    public async Task TransferOut_MoreThanAvailable_Returns422InsufficientMarginAndChangesNothing()
    {
        var t = await app.CreateTraderAsync(wallet: "10000", bucket: "1000");
        await app.SetPriceAsync("BTC-USDT", "50000");
        (await app.PostAsync($"{t.Path}/orders", new { symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.01" }, t.ApiKey)).Status(HttpStatusCode.Created);
        var bucket = (await app.GetAsync($"{t.Path}/buckets/{t.BucketId}", t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal(50m, bucket.Dec("usedMargin"));
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);

        // The balance is ~999.75, but 50 of it is the position's margin.
        (await app.PostAsync($"{t.Path}/buckets/{t.BucketId}/transfers", new { direction = "out", amount = "990" }, t.ApiKey))
            .Problem(HttpStatusCode.UnprocessableEntity, "insufficient_margin");

        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
    }

    [Fact]
    public async Task TransferIn_MoreThanWallet_Returns422InsufficientBalanceAndChangesNothing()
    {
        var t = await app.CreateTraderAsync(wallet: "100", bucket: "0");
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);

        (await app.PostAsync($"{t.Path}/buckets/{t.BucketId}/transfers", new { direction = "in", amount = "100.01" }, t.ApiKey))
            .Problem(HttpStatusCode.UnprocessableEntity, "insufficient_balance");

        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
    }

    [Theory]
    [InlineData("{\"direction\":\"sideways\",\"amount\":\"1\"}", "invalid_direction")]
    [InlineData("{\"direction\":0,\"amount\":\"1\"}", "invalid_direction")]
    [InlineData("{\"amount\":\"1\"}", "invalid_direction")]
    [InlineData("{\"direction\":\"in\"}", "invalid_amount")]
    [InlineData("{\"direction\":\"in\",\"amount\":\"0\"}", "invalid_amount")]
    [InlineData("{\"direction\":\"in\",\"amount\":\"1000000000001\"}", "invalid_amount")]
    public async Task Transfer_InvalidBody_Returns400AndChangesNothing(string body, string code)
    {
        var t = await app.CreateTraderAsync();
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);

        (await app.PostAsync($"{t.Path}/buckets/{t.BucketId}/transfers", body, t.ApiKey)).Problem(HttpStatusCode.BadRequest, code);

        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
    }

    [Fact]
    public async Task Transfer_UnknownBucket_Returns404AndChangesNothing()
    {
        var t = await app.CreateTraderAsync();
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);

        (await app.PostAsync($"{t.Path}/buckets/{t.AccountId}-b42/transfers", new { direction = "in", amount = "1" }, t.ApiKey)).Problem(HttpStatusCode.NotFound, "not_found");

        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
    }

    [Fact]
    public async Task Transfer_IdempotencyKeyReusedOnAnotherBucket_IsNotAnsweredWithTheFirstBucket()
    {
        var t = await app.CreateTraderAsync(wallet: "10000", bucket: "0");
        var other = (await app.PostAsync($"{t.Path}/buckets", new { name = "other" }, t.ApiKey)).Status(HttpStatusCode.Created).Str("bucketId");
        (await app.PostAsync($"{t.Path}/buckets/{t.BucketId}/transfers", new { direction = "in", amount = "10" }, t.ApiKey, Key("tr-1"))).Status(HttpStatusCode.OK);
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);

        (await app.PostAsync($"{t.Path}/buckets/{other}/transfers", new { direction = "in", amount = "10" }, t.ApiKey, Key("tr-1")))
            .Problem(HttpStatusCode.Conflict, "duplicate_client_order_id");

        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
    }

    [Fact]
    public async Task Transfer_SameIdempotencyKeyTwice_MovesOnce()
    {
        var t = await app.CreateTraderAsync(wallet: "10000", bucket: "0");

        (await app.PostAsync($"{t.Path}/buckets/{t.BucketId}/transfers", new { direction = "in", amount = "10" }, t.ApiKey, Key("tr-2"))).Status(HttpStatusCode.OK);
        (await app.PostAsync($"{t.Path}/buckets/{t.BucketId}/transfers", new { direction = "in", amount = "10" }, t.ApiKey, Key("tr-2"))).Status(HttpStatusCode.OK);

        var bucket = (await app.GetAsync($"{t.Path}/buckets/{t.BucketId}", t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal("10", bucket.Str("balance"));
    }

    [Fact]
    public async Task SetLeverage_Valid_ShowsInBucketAndSizesTheNextPositionsMargin()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "50000");

        var bucket = (await app.PutAsync($"{t.Path}/buckets/{t.BucketId}/leverage", new { symbol = "BTC-USDT", leverage = 25 }, t.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Equal(25, bucket.GetProperty("leverage").GetProperty("BTC-USDT").GetInt32());

        (await app.PostAsync($"{t.Path}/orders", new { symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.01" }, t.ApiKey)).Status(HttpStatusCode.Created);
        var position = Assert.Single((await app.GetAsync($"{t.Path}/positions", t.ApiKey)).Status(HttpStatusCode.OK).Items());
        Assert.Equal(25, position.GetProperty("leverage").GetInt32());
        Assert.Equal(20m, position.Dec("margin"));
    }

    [Theory]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"leverage\":0}", "invalid_leverage")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"leverage\":126}", "invalid_leverage")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"leverage\":2.5}", "invalid_leverage")]
    [InlineData("{\"symbol\":\"BTC-USDT\"}", "invalid_leverage")]
    [InlineData("{\"symbol\":\"DOGE-USDT\",\"leverage\":5}", "unknown_symbol")]
    [InlineData("{\"leverage\":5}", "unknown_symbol")]
    public async Task SetLeverage_Invalid_Returns400AndChangesNothing(string body, string code)
    {
        var t = await app.CreateTraderAsync();
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);

        (await app.PutAsync($"{t.Path}/buckets/{t.BucketId}/leverage", body, t.ApiKey)).Problem(HttpStatusCode.BadRequest, code);

        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
    }

    [Fact]
    public async Task SetLeverage_PositionOpen_Returns422PositionOpenAndChangesNothing()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "50000");
        (await app.PostAsync($"{t.Path}/orders", new { symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.01" }, t.ApiKey)).Status(HttpStatusCode.Created);
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);

        (await app.PutAsync($"{t.Path}/buckets/{t.BucketId}/leverage", new { symbol = "BTC-USDT", leverage = 50 }, t.ApiKey))
            .Problem(HttpStatusCode.UnprocessableEntity, "position_open");

        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
    }

    [Fact]
    public async Task SetLeverage_UnknownBucket_Returns404()
    {
        var t = await app.CreateTraderAsync();
        (await app.PutAsync($"{t.Path}/buckets/{t.AccountId}-b9/leverage", new { symbol = "BTC-USDT", leverage = 5 }, t.ApiKey)).Problem(HttpStatusCode.NotFound, "not_found");
    }
}
