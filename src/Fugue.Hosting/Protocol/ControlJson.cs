using System.Text.Json.Serialization;

namespace Fugue.Hosting.Protocol;

/// <summary>The control socket's replies as JSON (source-generated), in the camelCase a user's tools expect.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(ControlReply))]
[JsonSerializable(typeof(ClusterStatus))]
internal sealed partial class ControlJson : JsonSerializerContext;
