using System.Text.Json.Serialization;
using FugueHosting.Master;
using FugueHosting.Worker;

namespace FugueHosting;

/// <summary>
/// The identities a master gives its children, as JSON (source-generated, so nothing is lost to trimming): version 2
/// of the wire format. Version 1 (the releases before it) was <c>key=value</c> pairs; the parsers still read it, so
/// that a HUP or USR2 across one upgrade works in both directions of the change.
/// </summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(WorkerIdentity))]
[JsonSerializable(typeof(SuccessorIdentity))]
internal sealed partial class ProtocolJson : JsonSerializerContext;
