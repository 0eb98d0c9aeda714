using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Engine.Tests.Api;

/// <summary>Assertions and readers for API answers.</summary>
internal static class ApiAssert
{
    /// <summary>The answer has <paramref name="expected"/> status; on failure the message shows the body.</summary>
    public static JsonElement Status(this (HttpStatusCode Status, JsonElement Body) answer, HttpStatusCode expected)
    {
        Assert.True(answer.Status == expected,
            $"expected {(int)expected} {expected}, got {(int)answer.Status} {answer.Status}: {Text(answer.Body)}");
        return answer.Body;
    }

    /// <summary>An RFC 9457 problem with the status and stable code.</summary>
    public static void Problem(this (HttpStatusCode Status, JsonElement Body) answer, HttpStatusCode status, string code)
    {
        answer.Status(status);
        Assert.Equal(JsonValueKind.Object, answer.Body.ValueKind);
        Assert.Equal((int)status, answer.Body.GetProperty("status").GetInt32());
        Assert.Equal(code, answer.Body.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(answer.Body.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrEmpty(answer.Body.GetProperty("type").GetString()));
    }

    public static string Str(this JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()!
            : throw new Xunit.Sdk.XunitException($"string property '{name}' missing in {e.GetRawText()}");

    /// <summary>A decimal field (a JSON string, as the API sends them), for values computed with several digits.</summary>
    public static decimal Dec(this JsonElement e, string name) => decimal.Parse(e.Str(name), NumberStyles.Number, CultureInfo.InvariantCulture);

    /// <summary>Null when the field is absent or null.</summary>
    public static string? OptStr(this JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static JsonElement[] Items(this JsonElement e) => e.EnumerateArray().ToArray();

    public static JsonElement[] Items(this JsonElement e, string name) => e.GetProperty(name).EnumerateArray().ToArray();

    private static string Text(JsonElement e) => e.ValueKind == JsonValueKind.Undefined ? "(empty body)" : e.GetRawText();
}
