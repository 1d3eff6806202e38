using Fugue.Hosting.Native;

namespace Fugue.Hosting.Tests.Units;

/// <summary>A C library without what Fugue calls (musl, glibc before 2.34) means one ordinary process, not a crash.</summary>
public sealed class PlatformCheckTests
{
    [Fact]
    public void This_machines_glibc_has_every_function_fugue_calls()
    {
        Assert.Null(PlatformCheck.MissingHere());
    }

    [Theory]
    [InlineData("posix_spawn_file_actions_addclosefrom_np")] // musl; glibc before 2.34
    [InlineData("posix_spawn_file_actions_addchdir_np")] // glibc before 2.29
    public void A_library_lacking_one_of_them_is_named(string lacking)
    {
        Assert.Equal(lacking, PlatformCheck.Missing(name => name != lacking));
    }
}
