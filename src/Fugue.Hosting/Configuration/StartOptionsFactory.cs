using Microsoft.Extensions.Options;

namespace Fugue.Hosting.Configuration;

/// <summary>
/// The options pipeline's factory for <see cref="FugueOptions"/>: it hands out the one start read, validated, instead
/// of binding the configuration again, so that <c>IOptions&lt;FugueOptions&gt;</c>, <c>ValidateOnStart</c> and the
/// master see the same options.
/// </summary>
internal sealed class StartOptionsFactory(StartOptions start, IEnumerable<IValidateOptions<FugueOptions>> validators) : IOptionsFactory<FugueOptions>
{
    public FugueOptions Create(string name) => start.Validated(validators);
}
