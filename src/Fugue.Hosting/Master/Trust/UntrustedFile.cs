namespace Fugue.Hosting.Master.Trust;

/// <summary>A file or directory on the way to what root loads that someone other than root could change.</summary>
internal sealed record UntrustedFile(string Path, uint Owner, string Permissions, string Why)
{
    public override string ToString() => $"{Path} (owner uid {Owner}, mode {Permissions}) {Why}";
}
