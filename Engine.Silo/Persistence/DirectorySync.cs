using System.Runtime.InteropServices;

namespace Engine.Silo.Persistence;

/// <summary>
/// fsync of a directory, so that a created, renamed or deleted entry survives a power loss. .NET refuses to
/// open a directory as a file, hence the direct libc calls.
/// </summary>
internal static class DirectorySync
{
    private const int ReadOnly = 0;
    private const int InvalidArgument = 22;

    public static void Flush(string directory)
    {
        // NTFS journals directory metadata itself and offers no fsync of a directory handle.
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        int fd;
        try
        {
            fd = open(directory, ReadOnly);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // A platform without a libc has no directory fsync to offer.
            return;
        }

        if (fd < 0)
        {
            throw new IOException($"cannot open directory '{directory}' to flush it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            // Some file systems reject fsync on directories (EINVAL); they have nothing to flush.
            if (fsync(fd) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != InvalidArgument)
                {
                    throw new IOException($"fsync of directory '{directory}' failed (errno {errno})");
                }
            }
        }
        finally
        {
            _ = close(fd);
        }
    }

    /// <summary>Creates a directory (and missing parents) and makes each new entry durable in its parent.</summary>
    public static void CreateDurably(string directory)
    {
        string path = Path.GetFullPath(directory);
        var missing = new Stack<string>();
        for (string? current = path; current is not null && !Directory.Exists(current); current = Path.GetDirectoryName(current))
        {
            missing.Push(current);
        }

        if (missing.Count == 0)
        {
            return;
        }

        Directory.CreateDirectory(path);
        foreach (string created in missing)
        {
            if (Path.GetDirectoryName(created) is { } parent)
            {
                Flush(parent);
            }
        }
    }

#pragma warning disable SYSLIB1054 // LibraryImport would need AllowUnsafeBlocks in the project; these signatures are blittable apart from the path.
    [DllImport("libc", SetLastError = true)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int fsync(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);
#pragma warning restore SYSLIB1054
}
