using System.Security.Cryptography;
using System.Text.Json;

namespace Engine.Api.Http;

/// <summary>Reads a JSON body strictly, turning every malformed input into a 400 with a field code.</summary>
public static class RequestBody
{
    private const int MaxBytes = 1 << 20;

    public static async Task<T> ReadAsync<T>(HttpContext http) where T : class
    {
        if (http.Request.ContentLength is > MaxBytes) throw new ProblemException(400, "body_too_large", "the body may be at most 1 MiB");
        T? value;
        try
        {
            value = await JsonSerializer.DeserializeAsync<T>(http.Request.Body, ApiJson.Options, http.RequestAborted);
        }
        catch (JsonException ex)
        {
            throw new ProblemException(400, CodeOf(ex), DetailOf(ex));
        }

        return value ?? throw new ProblemException(400, "malformed_json", "a JSON object is required");
    }

    /// <summary>A stable hash of a parsed request, to tell an exact repeat from a different body.</summary>
    public static string HashOf<T>(T value) =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(value, ApiJson.Options)));

    /// <summary>
    /// What an idempotency key is bound to: the method and path as well as the body. Keys live per
    /// account, shared by all its endpoints (and by the operator's deposits), so the same key and body
    /// sent to another endpoint or bucket is another request (a conflict), never a replay of the first.
    /// </summary>
    public static object Scoped(HttpContext http, object? body) =>
        new ScopedRequest(http.Request.Method, http.Request.Path.Value ?? "", body);

    private sealed record ScopedRequest(string Method, string Path, object? Body);

    /// <summary>The idempotency key of a request: the Idempotency-Key header, or the body's clientOrderId.</summary>
    public static string? IdempotencyKey(HttpContext http, string? clientOrderId)
    {
        var header = http.Request.Headers["Idempotency-Key"].ToString();
        var key = string.IsNullOrEmpty(header) ? clientOrderId : header;
        if (key is { Length: 0 or > 64 }) throw new ProblemException(400, "invalid_idempotency_key", "an idempotency key has 1 to 64 characters");
        return key;
    }

    /// <summary>
    /// Syntax errors (a truncated or broken document) come from the reader, wrapped with the path
    /// reached so far: they are malformed JSON, not a problem of the field that happened to be last.
    /// </summary>
    private static bool IsSyntaxError(JsonException ex) => ex.InnerException is JsonException;

    private static string CodeOf(JsonException ex)
    {
        var path = ex.Path;
        if (IsSyntaxError(ex) || string.IsNullOrEmpty(path) || path == "$") return "malformed_json";
        var field = path.Split('.', StringSplitOptions.RemoveEmptyEntries).Last();
        var cut = field.IndexOf('[');
        if (cut >= 0) field = field[..cut];
        field = field.Trim('$', '\'', '[', ']');
        if (field.Length == 0) return "malformed_json";
        var snake = string.Concat(field.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "_" : "") + char.ToLowerInvariant(c) : c.ToString()));
        return "invalid_" + snake;
    }

    private static string DetailOf(JsonException ex) =>
        IsSyntaxError(ex) || string.IsNullOrEmpty(ex.Path) || ex.Path == "$"
            ? "the body is not valid JSON for this request"
            : $"{ex.Path.TrimStart('$', '.')}: {(ex.InnerException?.Message ?? ex.Message).Split(" Path:")[0]}";
}
