using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Fugue.Hosting.Protocol;

/// <summary>
/// The identities a master gives its children, as JSON. Members are only ever added, so that a master and a child of
/// the next release read each other across a USR2. Written with <see cref="Utf8JsonWriter"/> and read from a
/// <see cref="JsonDocument"/> by hand, not by the serializer: its metadata for these types is generic code each JIT
/// worker would compile on its first parse, during its start; the writer and the document come compiled ahead in the
/// framework. Absent and null members read as nulls, empty lists, defaults.
/// </summary>
internal static class ProtocolJson
{
    /// <summary>One JSON object, its members written by <paramref name="members"/>.</summary>
    public static string Write(Action<Utf8JsonWriter> members)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            members(writer);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Reads the JSON object <paramref name="value"/> with <paramref name="read"/>.</summary>
    public static T Read<T>(string value, Func<JsonElement, T> read)
    {
        using var document = JsonDocument.Parse(value);
        return read(document.RootElement);
    }

    public static void String(this Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }

    public static void Number(this Utf8JsonWriter writer, string name, int? value)
    {
        if (value is int number)
        {
            writer.WriteNumber(name, number);
        }
    }

    public static void Time(this Utf8JsonWriter writer, string name, TimeSpan value) => writer.WriteString(name, value.ToString("c", CultureInfo.InvariantCulture));

    /// <summary>An object member; nothing when <paramref name="value"/> is null.</summary>
    public static void Object<T>(this Utf8JsonWriter writer, string name, T? value, Action<Utf8JsonWriter, T> members)
        where T : class
    {
        if (value is not null)
        {
            Members(writer, name, value, members);
        }
    }

    /// <summary>An object member of a value type; nothing when <paramref name="value"/> is null.</summary>
    public static void Object<T>(this Utf8JsonWriter writer, string name, T? value, Action<Utf8JsonWriter, T> members)
        where T : struct
    {
        if (value is T present)
        {
            Members(writer, name, present, members);
        }
    }

    private static void Members<T>(Utf8JsonWriter writer, string name, T value, Action<Utf8JsonWriter, T> members)
    {
        writer.WriteStartObject(name);
        members(writer, value);
        writer.WriteEndObject();
    }

    /// <summary>An array member of objects.</summary>
    public static void Objects<T>(this Utf8JsonWriter writer, string name, IEnumerable<T> items, Action<Utf8JsonWriter, T> members)
    {
        writer.WriteStartArray(name);
        foreach (var item in items)
        {
            writer.WriteStartObject();
            members(writer, item);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }

    /// <summary>The member <paramref name="name"/>, or null when it is absent or null.</summary>
    public static JsonElement? Member(this JsonElement element, string name) =>
        element.TryGetProperty(name, out var member) && member.ValueKind != JsonValueKind.Null ? member : null;

    public static int Int(this JsonElement element, string name) => element.Member(name)?.GetInt32() ?? 0;

    public static int? IntOrNull(this JsonElement element, string name) => element.Member(name)?.GetInt32();

    public static long Long(this JsonElement element, string name) => element.Member(name)?.GetInt64() ?? 0;

    public static uint UInt(this JsonElement element, string name) => element.Member(name)?.GetUInt32() ?? 0;

    public static bool Bool(this JsonElement element, string name) => element.Member(name)?.GetBoolean() ?? false;

    public static bool? BoolOrNull(this JsonElement element, string name) => element.Member(name)?.GetBoolean();

    public static string? StringOrNull(this JsonElement element, string name) => element.Member(name)?.GetString();

    public static TimeSpan Time(this JsonElement element, string name) =>
        element.Member(name)?.GetString() is { } value ? TimeSpan.ParseExact(value, "c", CultureInfo.InvariantCulture) : TimeSpan.Zero;

    /// <summary>The array member <paramref name="name"/>, each item read by <paramref name="read"/>; empty when absent.</summary>
    public static List<T> Items<T>(this JsonElement element, string name, Func<JsonElement, T> read)
    {
        var items = new List<T>();
        if (element.Member(name) is { } array)
        {
            foreach (var item in array.EnumerateArray())
            {
                items.Add(read(item));
            }
        }
        return items;
    }
}
