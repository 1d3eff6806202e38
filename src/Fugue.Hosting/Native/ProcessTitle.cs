using System.Text;

namespace Fugue.Hosting.Native;

/// <summary>
/// What <c>ps</c> and <c>top</c> show as the process's name (<c>/proc/self/comm</c>, at most 15 bytes): its role first,
/// then the app's name, cut to fit: <c>master HelloWeb</c>, <c>w2 HelloWeb</c>, <c>spare HelloWeb</c>,
/// <c>old w2 HelloWeb</c>. The command line (<c>ps -f</c>, <c>pgrep -f</c>) stays the app's.
/// </summary>
internal static class ProcessTitle
{
    private const int MaxBytes = 15;

    public static string For(string role, string app)
    {
        string title = $"{role} {app}";
        while (Encoding.UTF8.GetByteCount(title) > MaxBytes)
        {
            title = title[..^1];
        }
        return title.TrimEnd();
    }

    /// <summary>Names this process by <paramref name="role"/>; a kernel that refuses leaves the name as it was.</summary>
    public static void Set(string role)
    {
        try
        {
            File.WriteAllText("/proc/self/comm", For(role, AppDomain.CurrentDomain.FriendlyName));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // a name is a convenience
        }
    }
}
