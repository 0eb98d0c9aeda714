using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Engine.Silo.Persistence;

/// <summary>
/// CRC-32C (Castagnoli), the standard variant (initial value and final xor 0xFFFFFFFF), built on
/// <see cref="BitOperations.Crc32C(uint, ulong)"/> which uses the SSE4.2 / ARM CRC instructions when present.
/// </summary>
internal static class Crc32C
{
    /// <summary>
    /// Continues a checksum: <c>Update(Update(0, a), b) == Compute(a + b)</c>, so a record's checksum can
    /// be taken over fields that are not adjacent in memory.
    /// </summary>
    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        uint state = ~crc;
        if (BitConverter.IsLittleEndian)
        {
            // Reading 8 bytes at a time as a little-endian word feeds the bytes in stream order.
            ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(data);
            foreach (ulong word in words)
            {
                state = BitOperations.Crc32C(state, word);
            }

            data = data[(words.Length * sizeof(ulong))..];
        }
        else
        {
            while (data.Length >= sizeof(ulong))
            {
                state = BitOperations.Crc32C(state, BinaryPrimitives.ReadUInt64LittleEndian(data));
                data = data[sizeof(ulong)..];
            }
        }

        foreach (byte b in data)
        {
            state = BitOperations.Crc32C(state, b);
        }

        return ~state;
    }

    public static uint Compute(ReadOnlySpan<byte> data) => Update(0, data);
}
