namespace Fugue.Hosting.Native;

/// <summary>A file as lstat or fstat sees it: its owner, its mode (type and permission bits) and where it is.</summary>
internal readonly record struct FileEntry(uint Owner, uint Mode, ulong Device, ulong Inode)
{
    private const uint TypeMask = 0xF000, DirectoryType = 0x4000, LinkType = 0xA000;

    public bool IsDirectory => (Mode & TypeMask) == DirectoryType;

    public bool IsLink => (Mode & TypeMask) == LinkType;

    /// <summary>The same file wherever it is named: device and inode.</summary>
    public (ulong Device, ulong Inode) Identity => (Device, Inode);

    /// <summary>Open to its owner alone: no permission for its group or for anyone (mode 077 clear).</summary>
    public bool Private => (Mode & 0x3F) == 0;

    /// <summary>Writable by its group or by anyone (mode 022).</summary>
    public bool WritableByOthers => (Mode & 0x12) != 0;

    /// <summary>The sticky bit: only an entry's owner (or root) may remove or rename it.</summary>
    public bool Sticky => (Mode & 0x200) != 0;

    /// <summary>The permission bits in octal, as ls and chmod write them.</summary>
    public string Permissions => Convert.ToString(Mode & 0xFFF, 8).PadLeft(4, '0');
}
