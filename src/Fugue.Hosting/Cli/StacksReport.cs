using System.Text;
using System.Text.Json;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Cli;

/// <summary>
/// <c>fugue stacks N</c> as a person reads it: each thread of a worker's crash report (what createdump writes, see
/// <c>StackCapture</c>) with its managed frames, and its native frames where they have a name. The file was written by
/// the worker, as the workers' user: it is read only as a regular file, bounded, and printed escaped.
/// </summary>
internal static class StacksReport
{
    /// <summary>The most of a report read: a worker with thousands of deep stacks stays well below.</summary>
    private const int MaxBytes = 64 << 20;

    /// <summary>The threads of the report at <paramref name="path"/>, or null when it cannot be read as one.</summary>
    public static string? Read(string path)
    {
        if (Native.Posix.ReadRegularFile(path, MaxBytes) is not { } bytes)
        {
            return null;
        }
        try
        {
            return Format(bytes);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            return null;
        }
    }

    public static string Format(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        using var report = JsonDocument.ParseValue(ref reader);
        var text = new StringBuilder();
        foreach (var thread in report.RootElement.GetProperty("payload").GetProperty("threads").EnumerateArray())
        {
            bool managed = Flag(thread, "is_managed");
            text.Append("Thread ").Append(Text(thread, "native_thread_id") ?? "?").Append(managed ? " (managed)" : "").Append('\n');
            foreach (var frame in thread.TryGetProperty("stack_frames", out var frames) ? frames.EnumerateArray() : default)
            {
                string? name = Flag(frame, "is_managed") ? Text(frame, "method_name")
                    : Text(frame, "unmanaged_name") is { } native ? $"{native} ({Text(frame, "native_module")})" : null;
                if (name is not null)
                {
                    text.Append("  at ").Append(name).Append('\n'); // its parts are escaped (Text)
                }
            }
        }
        return text.ToString();
    }

    private static bool Flag(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && (v.ValueKind == JsonValueKind.True || (v.ValueKind == JsonValueKind.String && v.GetString() == "true"));

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? ControlCharacters.Escape(v.GetString()!) : null;
}
