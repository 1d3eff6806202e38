namespace Fugue.Hosting.Tests;

/// <summary>Gives files to another user, as a test that plays an attacker needs (root only).</summary>
internal static class Ownership
{
    /// <summary>Makes <paramref name="uid"/> (and the group of that number) own <paramref name="path"/> itself: a link, not its target.</summary>
    public static unsafe void Set(string path, uint uid)
    {
        fixed (byte* p = System.Text.Encoding.UTF8.GetBytes(path + "\0"))
        {
            Assert.Equal(0, Tmds.Linux.LibC.lchown(p, uid, uid));
        }
    }

    /// <summary>As <see cref="Set"/>, for <paramref name="path"/> and everything below it.</summary>
    public static void SetTree(string path, uint uid)
    {
        foreach (string entry in Directory.GetFileSystemEntries(path, "*", SearchOption.AllDirectories).Append(path))
        {
            Set(entry, uid);
        }
    }
}
