using Fugue.Hosting.Master.Listeners;
using Fugue.Hosting.Master.Spawning;
using Fugue.Hosting.Master.Trust;
using Fugue.Hosting.Native;
using Microsoft.Extensions.Options;

namespace Fugue.Hosting.Master;

/// <summary>Checks the options at start, before any worker exists; every message names the key and the value.</summary>
internal sealed class FugueOptionsValidator : IValidateOptions<FugueOptions>
{
    private const string Section = FugueOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, FugueOptions options)
    {
        var errors = new List<string>();
        if (options.Workers < 0)
        {
            errors.Add($"{Section}:Workers = {options.Workers}: must be 0 or more.");
        }
        if (options.SpareWorkers is < 0 or > FugueOptions.MaxSpareWorkers)
        {
            errors.Add($"{Section}:SpareWorkers = {options.SpareWorkers}: must be 0 to {FugueOptions.MaxSpareWorkers}.");
        }
        if (Environment.GetEnvironmentVariable(FugueOptions.ConcurrencyVariable) is { } concurrency && FugueOptions.Concurrency(concurrency) is null)
        {
            errors.Add($"{FugueOptions.ConcurrencyVariable} = '{concurrency}': must be a whole number of 1 or more (it sets the default of {Section}:Workers).");
        }
        for (int i = 0; i < options.Listen.Count; i++)
        {
            if (!ListenAddress.TryParse(options.Listen[i], out _, out string? error))
            {
                errors.Add($"{Section}:Listen:{i} = '{options.Listen[i]}': {error}.");
            }
        }
        if (options.WorkingDirectory is { } dir && !Directory.Exists(dir))
        {
            errors.Add($"{Section}:WorkingDirectory = '{dir}': no such directory.");
        }
        if (options.DataProtectionKeysPath is { } keys && !Path.IsPathRooted(keys))
        {
            errors.Add($"{Section}:DataProtectionKeysPath = '{keys}': must be an absolute path.");
        }
        if (options.TempPath is { } temp && !Directory.Exists(temp))
        {
            errors.Add($"{Section}:TempPath = '{options.TempPath}': no such directory.");
        }
        if (options.ControlSocket is { } control && (!Path.IsPathRooted(control) || !Directory.Exists(Path.GetDirectoryName(control))))
        {
            errors.Add($"{Section}:ControlSocket = '{control}': must be an absolute path in a directory that exists.");
        }
        Positive(errors, nameof(options.MasterPingInterval), options.MasterPingInterval);
        Positive(errors, nameof(options.WorkerKillTimeout), options.WorkerKillTimeout);
        Positive(errors, nameof(options.WorkerBootTimeout), options.WorkerBootTimeout);
        Positive(errors, nameof(options.WorkerTimeout), options.WorkerTimeout);
        if (options.RollingRestartBatch < 1)
        {
            errors.Add($"{Section}:RollingRestartBatch = {options.RollingRestartBatch}: must be 1 or more.");
        }
        if (options.WarmUpPath is { } warmUp && (!warmUp.StartsWith('/') || !Uri.IsWellFormedUriString(warmUp, UriKind.Relative)))
        {
            errors.Add($"{Section}:WarmUpPath = '{warmUp}': must be a path starting with '/' (e.g. /health).");
        }
        if (options.WarmUpRequests < 1)
        {
            errors.Add($"{Section}:WarmUpRequests = {options.WarmUpRequests}: must be 1 or more.");
        }
        if (options.ReplacementNice is < 0 or > 19)
        {
            errors.Add($"{Section}:ReplacementNice = {options.ReplacementNice}: must be from 0 (off) to 19.");
        }
        if (options.ReplacementIdleTime < TimeSpan.Zero)
        {
            errors.Add($"{Section}:ReplacementIdleTime = {options.ReplacementIdleTime}: must not be negative (0: off).");
        }
        if (options.PidFile is "")
        {
            errors.Add($"{Section}:PidFile = '': must be a path (or absent: no pid file).");
        }
        else if (options.PidFile is { } pidFile && !Directory.Exists(Path.GetDirectoryName(Path.GetFullPath(pidFile))))
        {
            errors.Add($"{Section}:PidFile = '{pidFile}': its directory does not exist.");
        }
        if (options.LameDuckPeriod < TimeSpan.Zero || options.LameDuckPeriod >= options.WorkerKillTimeout)
        {
            errors.Add($"{Section}:LameDuckPeriod = {options.LameDuckPeriod}: must be 0 or more and less than {Section}:WorkerKillTimeout ({options.WorkerKillTimeout}).");
        }
        NotNegative(errors, nameof(options.MaxRequests), options.MaxRequests);
        NotNegative(errors, nameof(options.MaxRequestsJitter), options.MaxRequestsJitter);
        NotNegative(errors, nameof(options.MemoryLimit), options.MemoryLimit);
        NotNegative(errors, nameof(options.MaxRestarts), options.MaxRestarts);
        NotNegative(errors, nameof(options.MaxLifetime), options.MaxLifetime);
        NotNegative(errors, nameof(options.MaxLifetimeJitter), options.MaxLifetimeJitter);
        NotNegative(errors, nameof(options.MinLifetime), options.MinLifetime);
        NotNegative(errors, nameof(options.RequestTimeout), options.RequestTimeout);
        NotNegative(errors, nameof(options.RequestTimeoutGrace), options.RequestTimeoutGrace);
        NotNegative(errors, nameof(options.StacksKept), options.StacksKept);
        if (options.StacksPath is { } stacks && !Path.IsPathRooted(stacks))
        {
            errors.Add($"{Section}:StacksPath = '{stacks}': must be an absolute path.");
        }
        if (options.RecycleConcurrency < 1)
        {
            errors.Add($"{Section}:RecycleConcurrency = {options.RecycleConcurrency}: must be 1 or more.");
        }
        if (options.MaxLifetime > TimeSpan.Zero && options.MaxLifetime < options.MinLifetime)
        {
            errors.Add($"{Section}:MaxLifetime = {options.MaxLifetime}: must be at least {Section}:MinLifetime ({options.MinLifetime}), or zero (off).");
        }
        try
        {
            if (AppFiles.Refusal(options.User, Credentials.Resolve(options.User, options.Group), AppCommandLine.Current()) is { } refusal)
            {
                errors.Add(refusal);
            }
        }
        catch (InvalidOperationException e)
        {
            errors.Add(e.Message);
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void NotNegative(List<string> errors, string key, long value)
    {
        if (value < 0)
        {
            errors.Add($"{Section}:{key} = {value}: must be 0 (off) or more.");
        }
    }

    private static void NotNegative(List<string> errors, string key, TimeSpan value)
    {
        if (value < TimeSpan.Zero)
        {
            errors.Add($"{Section}:{key} = {value}: must be zero (off) or more (e.g. 06:00:00).");
        }
    }

    private static void Positive(List<string> errors, string key, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"{Section}:{key} = {value}: must be more than zero (e.g. 00:00:30).");
        }
    }
}
