namespace Fugue.Hosting.Master.Control;

/// <summary>Where the workers write their stacks; null, with the reason, when it could not be made.</summary>
/// <param name="Path">The directory.</param>
/// <param name="Problem">Why there is none.</param>
/// <param name="Keep">How many reports it keeps (Fugue:StacksKept); 0: all.</param>
internal sealed record StacksDirectory(string? Path, string? Problem, int Keep = 0)
{
    /// <summary>
    /// Makes room for one more report: the oldest go until <see cref="Keep"/> less one remain. A report that cannot be
    /// removed stays (the next capture tries again); nothing else in the directory is touched.
    /// </summary>
    public void MakeRoom()
    {
        if (Path is null || Keep <= 0)
        {
            return;
        }
        try
        {
            // Listed without following links; a link among them is removed itself, never what it points to.
            foreach (var old in new DirectoryInfo(Path).EnumerateFiles("*" + StackCapture.ReportPath("")).OrderByDescending(f => f.LastWriteTimeUtc).Skip(Keep - 1))
            {
                try
                {
                    old.Delete();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Left for the next capture.
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The directory cannot be listed now: the capture says whether it can write.
        }
    }
}
