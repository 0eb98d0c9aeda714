using System.Text.Json;
using Engine.Grains.Events;

namespace Engine.Silo.Serialization;

/// <summary>How events are written into the journal: compact JSON with a type discriminator.</summary>
public static class EventJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.General)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public static byte[] Serialize(EngineEvent e) => JsonSerializer.SerializeToUtf8Bytes(e, Options);

    public static EngineEvent Deserialize(ReadOnlySpan<byte> payload) =>
        JsonSerializer.Deserialize<EngineEvent>(payload, Options) ?? throw new JsonException("empty event record");
}
