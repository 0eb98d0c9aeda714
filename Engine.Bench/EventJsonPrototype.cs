using System.Text.Json;
using System.Text.Json.Serialization;
using Engine.Grains.Events;

namespace Engine.Bench;

/// <summary>
/// Prototype (not in the engine): the journal's event JSON through a source-generated context instead
/// of reflection-based metadata, same options as EventJson (general defaults, nulls omitted).
/// </summary>
[JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Default, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(EngineEvent))]
internal sealed partial class EventJsonPrototype : JsonSerializerContext
{
    public static byte[] Serialize(EngineEvent e) => JsonSerializer.SerializeToUtf8Bytes(e, Default.EngineEvent);
}
