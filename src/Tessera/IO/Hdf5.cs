using System.Buffers.Binary;
using System.Globalization;
using PureHDF;
using PureHDF.Selections;
using PureHDF.VOL.Native;

namespace Tessera.IO;

/// <summary>
/// Thin typed layer over PureHDF shared by the h5ad and 10x HDF5 readers/writers. PureHDF reinterprets bytes
/// when asked for a type other than the stored one (an int64 read as double gives garbage), so every numeric
/// read here dispatches on the stored class and size and converts afterwards.
/// </summary>
internal static class Hdf5
{
    private static readonly byte[] Signature = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

    /// <summary>HDF5 has no boolean type; h5py/numpy read a 1-byte enum {FALSE = 0, TRUE = 1} as bool.</summary>
    internal enum H5Bool : byte { FALSE = 0, TRUE = 1 }

    /// <summary>
    /// Opens a file for reading after checking that it exists, carries the HDF5 signature and is as long as its
    /// superblock says (PureHDF fails late and obscurely on truncated files). Each problem is raised through <paramref name="fail"/>, which names the file.
    /// </summary>
    public static NativeFile Open(string path, Func<string, TesseraException> fail)
    {
        if (Directory.Exists(path)) throw fail("it is a folder, not a file");
        if (!File.Exists(path)) throw fail("the file does not exist");
        long length, eof;
        using (var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            length = s.Length;
            eof = EndOfFileAddress(s);
        }
        if (eof == -1) throw fail("not an HDF5 file (no HDF5 signature)");
        if (eof == -2) throw fail("the file is corrupt (invalid HDF5 superblock)");
        if (eof == -3) throw fail($"the file is truncated ({length} bytes, too short for its HDF5 superblock)");
        if (eof > length) throw fail($"the file is truncated ({length} bytes, but its HDF5 superblock declares {eof})");
        try { return H5File.OpenRead(path); }
        catch (Exception e) { throw fail($"the file is corrupt ({OneLine(e)})"); }
    }

    /// <summary>Absolute end-of-file address from the superblock; -1 without signature, -2 for a bad superblock, -3 when it is cut short.</summary>
    private static long EndOfFileAddress(FileStream s)
    {
        // The superblock sits at 0, 512, 1024, 2048... (after an optional user block).
        var buf = new byte[64];
        for (long at = 0; at + Signature.Length <= s.Length; at = at == 0 ? 512 : at * 2)
        {
            s.Position = at;
            int n = s.ReadAtLeast(buf, buf.Length, throwOnEndOfStream: false);
            if (n < 8 || !buf.AsSpan(0, 8).SequenceEqual(Signature)) continue;
            int version = buf[8];
            int offsets, pos;
            if (version is 0 or 1)
            {
                offsets = buf[13];
                pos = 24 + (version == 1 ? 4 : 0); // base address follows the fixed fields
            }
            else
            {
                offsets = buf[9];
                pos = 12;
            }
            if (offsets is not (2 or 4 or 8)) return -2;
            if (n < pos + 4 * offsets) return -3;
            long Read(int p) => offsets switch
            {
                2 => BinaryPrimitives.ReadUInt16LittleEndian(buf.AsSpan(p)),
                4 => BinaryPrimitives.ReadUInt32LittleEndian(buf.AsSpan(p)),
                _ => (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(buf.AsSpan(p)), long.MaxValue),
            };
            long baseAddress = Read(pos);
            // v0/1: base, free-space, eof; v2/3: base, extension, eof
            long eofRel = Read(pos + 2 * offsets);
            return baseAddress + eofRel;
        }
        return -1;
    }

    /// <summary>First line of an exception message (PureHDF messages can span lines).</summary>
    public static string OneLine(Exception e)
    {
        var m = e.Message;
        int i = m.IndexOfAny(['\r', '\n']);
        return (i >= 0 ? m[..i] : m).Trim();
    }

    // ---------- structure ----------

    /// <summary>The child at a path, or null.</summary>
    public static IH5Object? Child(IH5Group g, string path) => g.LinkExists(path) ? g.Get(path) : null;

    /// <summary>Children in file order.</summary>
    public static IEnumerable<IH5Object> Children(IH5Group g) => g.Children();

    /// <summary>Dimensions of a dataset (empty for a scalar).</summary>
    public static ulong[] Dims(IH5Dataset d) => d.Space.Type == H5DataspaceType.Scalar ? [] : d.Space.Dimensions;

    // ---------- attributes ----------

    /// <summary>A string attribute (scalar or first element), or null when absent or not text.</summary>
    public static string? AttrString(IH5Object o, string name)
    {
        if (!o.AttributeExists(name)) return null;
        var a = o.Attribute(name);
        if (!IsString(a.Type)) return null;
        var v = a.Read<string[]>();
        return v.Length > 0 ? Clean(v[0]) : null;
    }

    /// <summary>A string-array attribute; an empty non-text array (h5py writes [] as float64) is an empty list.</summary>
    public static string[]? AttrStrings(IH5Object o, string name)
    {
        if (!o.AttributeExists(name)) return null;
        var a = o.Attribute(name);
        if (IsString(a.Type)) return a.Read<string[]>().Select(Clean).ToArray();
        return a.Space.Type == H5DataspaceType.Simple && a.Space.Dimensions.Aggregate(1UL, (x, y) => x * y) == 0 ? [] : null;
    }

    /// <summary>An integer-array attribute (e.g. a sparse matrix's shape), or null.</summary>
    public static long[]? AttrLongs(IH5Object o, string name)
    {
        if (!o.AttributeExists(name)) return null;
        var a = o.Attribute(name);
        return NumericClass(a.Type) ? ToDoubles(a).Select(v => (long)v).ToArray() : null;
    }

    /// <summary>A boolean attribute stored as a bool enum or an integer, or null.</summary>
    public static bool? AttrBool(IH5Object o, string name)
    {
        if (!o.AttributeExists(name)) return null;
        var a = o.Attribute(name);
        if (!NumericClass(a.Type)) return null;
        var v = ToDoubles(a);
        return v.Length > 0 ? v[0] != 0 : null;
    }

    // ---------- type classification ----------

    /// <summary>Fixed- or variable-length text.</summary>
    /// <remarks>
    /// PureHDF reports variable-length strings as class VariableLength with a 1-byte base type and does not expose
    /// the string/sequence flag; h5py and anndata only write the string flavour, so a 1-byte base means text.
    /// </remarks>
    public static bool IsString(IH5DataType t) =>
        t.Class == H5DataTypeClass.String
        || (t.Class == H5DataTypeClass.VariableLength && t.VariableLength.BaseType.Size == 1
            && t.VariableLength.BaseType.Class is H5DataTypeClass.FixedPoint or H5DataTypeClass.String);

    /// <summary>Integer, float or enum (bool) data that converts to numbers.</summary>
    public static bool NumericClass(IH5DataType t) => t.Class is H5DataTypeClass.FixedPoint or H5DataTypeClass.FloatingPoint
        || (t.Class == H5DataTypeClass.Enumerated && t.Enumeration.BaseType.Class == H5DataTypeClass.FixedPoint);

    /// <summary>Integer storage (not enum, not float).</summary>
    public static bool IsInteger(IH5DataType t) => t.Class == H5DataTypeClass.FixedPoint;

    /// <summary>The enum {FALSE = 0, TRUE = 1} that h5py uses for numpy bool.</summary>
    public static bool IsBool(IH5DataType t)
    {
        if (t.Class != H5DataTypeClass.Enumerated || t.Enumeration.BaseType.Class != H5DataTypeClass.FixedPoint) return false;
        try
        {
            var names = EnumNames(t);
            return names.Count == 2 && names.Contains("FALSE") && names.Contains("TRUE");
        }
        catch (Exception) { return false; }
    }

    private static List<string> EnumNames(IH5DataType t) => t.Enumeration.BaseType.Size switch
    {
        1 => t.Enumeration.GetMembers<byte>().Keys.ToList(),
        2 => t.Enumeration.GetMembers<short>().Keys.ToList(),
        4 => t.Enumeration.GetMembers<int>().Keys.ToList(),
        _ => t.Enumeration.GetMembers<long>().Keys.ToList(),
    };

    // ---------- dataset reads ----------

    /// <summary>
    /// Reserves, before PureHDF allocates anything, the memory of reading <paramref name="d"/>: its declared element count
    /// times <paramref name="outBytes"/> for the array that is returned, plus the stored size of the whole dataset when
    /// <paramref name="wholeStored"/> (read in one piece) or of one slab (read a slab at a time and converted).
    /// </summary>
    private static void Reserve(IH5Dataset d, int outBytes, bool wholeStored)
    {
        var dims = Dims(d);
        double elements = 1;
        foreach (var x in dims) elements *= x;
        int stored = IsString(d.Type) ? 64 : (int)d.Type.Size; // a string costs its object and characters, not its stored size
        double storedElements = wholeStored ? elements : Math.Min(elements, SlabElements) * 2; // the stored slab and its float64 copy
        ReadBudget.Need(elements * outBytes + storedElements * stored,
            $"dataset '{d.Name}' (declared {(dims.Length == 0 ? "scalar" : string.Join(" x ", dims))}, {Describe(d.Type)})");
    }

    private static string Describe(IH5DataType t) => t.Class switch
    {
        H5DataTypeClass.FloatingPoint => $"float{t.Size * 8}",
        H5DataTypeClass.FixedPoint => $"{(t.FixedPoint.IsSigned ? "int" : "uint")}{t.Size * 8}",
        _ when IsString(t) => "text",
        _ => t.Class.ToString().ToLowerInvariant(),
    };

    /// <summary>Strings of a fixed- or variable-length string dataset (trailing NULs removed).</summary>
    public static string[] ReadStrings(IH5Dataset d)
    {
        if (!IsString(d.Type)) throw new InvalidDataException($"'{d.Name}' does not hold text");
        Reserve(d, 0, wholeStored: true);
        var v = d.Read<string[]>();
        for (int i = 0; i < v.Length; i++) v[i] = Clean(v[i]);
        return v;
    }

    /// <summary>Any numeric dataset as float64 (bool enums become 0/1).</summary>
    public static double[] ReadDoubles(IH5Dataset d)
    {
        if (d.Type.Class == H5DataTypeClass.FloatingPoint && d.Type.Size == 8)
        {
            Reserve(d, 0, wholeStored: true);
            return d.Read<double[]>();
        }
        Reserve(d, 8, wholeStored: false);
        return ReadConverted(d, v => v);
    }

    /// <summary>Any numeric dataset as float32.</summary>
    public static float[] ReadFloats(IH5Dataset d)
    {
        if (d.Type.Class == H5DataTypeClass.FloatingPoint && d.Type.Size == 4)
        {
            Reserve(d, 0, wholeStored: true);
            return d.Read<float[]>();
        }
        Reserve(d, 4, wholeStored: false);
        return ReadConverted(d, v => (float)v);
    }

    /// <summary>Integer dataset as int32 (indices, indptr, codes); values outside int32 are an error.</summary>
    public static int[] ReadInts(IH5Dataset d)
    {
        var t = d.Type;
        if (t.Class == H5DataTypeClass.FixedPoint && t.Size == 4 && t.FixedPoint.IsSigned)
        {
            Reserve(d, 0, wholeStored: true);
            return d.Read<int[]>();
        }
        if (!IsInteger(t) && t.Class != H5DataTypeClass.Enumerated) throw new InvalidDataException($"'{d.Name}' holds {t.Class} values where integers are expected");
        Reserve(d, 4, wholeStored: false);
        return ReadConverted(d, v => v >= int.MinValue && v <= int.MaxValue ? (int)v
            : throw new InvalidDataException($"'{d.Name}' holds {v}, outside the 32-bit range"));
    }

    /// <summary>Integer dataset as int64.</summary>
    public static long[] ReadLongs(IH5Dataset d)
    {
        var t = d.Type;
        if (t.Class == H5DataTypeClass.FixedPoint && t.Size == 8)
        {
            Reserve(d, 0, wholeStored: true);
            if (t.FixedPoint.IsSigned) return d.Read<long[]>();
            var u = d.Read<ulong[]>();
            var r = new long[u.Length];
            for (int i = 0; i < r.Length; i++) r[i] = (long)Math.Min(u[i], long.MaxValue);
            return r;
        }
        Reserve(d, 8, wholeStored: false);
        return ReadConverted(d, v => (long)v);
    }

    /// <summary>Bool-enum or integer dataset as bool.</summary>
    public static bool[] ReadBools(IH5Dataset d)
    {
        Reserve(d, 1, wholeStored: false);
        return ReadConverted(d, v => v != 0);
    }

    private static string Clean(string? s) => s == null ? "" : s.TrimEnd('\0');

    /// <summary>Elements per slab of a converted read: 8 MiB of float64, so a slab costs little next to any large array.</summary>
    private const int SlabElements = 1 << 20;

    /// <summary>
    /// Reads a numeric dataset of any stored integer/float/enum type into a new array of <typeparamref name="TOut"/>,
    /// a slab at a time (<see cref="ReadSlabs"/>), so that the whole dataset never exists in its stored type or as
    /// float64 beside the result: a 10x matrix's int64 indices cost the 4 bytes an entry that stay, not 8 + 8 + 4.
    /// </summary>
    private static TOut[] ReadConverted<TOut>(IH5Dataset d, Func<double, TOut> convert)
    {
        ulong total = Dims(d).Aggregate(1UL, (a, b) => a * b);
        if (total > (ulong)Array.MaxLength) throw new InvalidDataException($"'{d.Name}' holds {total} values, more than one array can");
        var result = new TOut[total];
        foreach (var (at, values, count) in ReadSlabs(d))
            for (int i = 0; i < count; i++) result[at + i] = convert(values[i]);
        return result;
    }

    /// <summary>
    /// Streams a numeric dataset (any stored integer/float/enum type; row-major, in blocks of whole rows of the first
    /// dimension) as float64 slabs of about a million values: (offset of the slab's first value, the values, how many
    /// are valid). The array is reused from one slab to the next; a consumer copies what it keeps. Float64 holds every
    /// integer below 2^53 exactly, far above any count or index.
    /// </summary>
    public static IEnumerable<(long At, double[] Values, int Count)> ReadSlabs(IH5Dataset d) => WithStoredType(d.Type, new SlabReader(d));

    /// <summary>What to do with the values of one stored numeric type, given how to widen one of them to float64.</summary>
    private interface IStoredNumbers<out R>
    {
        R Read<TIn>(Func<TIn, double> widen) where TIn : unmanaged;
    }

    /// <summary>
    /// The one table from a stored HDF5 number type (an enum by its base type) to the .NET type it is read as, shared
    /// by dataset slabs and attributes; other types are an error naming what was found.
    /// </summary>
    private static R WithStoredType<R>(IH5DataType t, IStoredNumbers<R> use)
    {
        if (t.Class == H5DataTypeClass.Enumerated) t = t.Enumeration.BaseType;
        bool signed = t.Class == H5DataTypeClass.FixedPoint && t.FixedPoint.IsSigned;
        return (t.Class, t.Size, signed) switch
        {
            (H5DataTypeClass.FloatingPoint, 8, _) => use.Read<double>(v => v),
            (H5DataTypeClass.FloatingPoint, 4, _) => use.Read<float>(v => v),
            (H5DataTypeClass.FixedPoint, 1, true) => use.Read<sbyte>(v => v),
            (H5DataTypeClass.FixedPoint, 1, false) => use.Read<byte>(v => v),
            (H5DataTypeClass.FixedPoint, 2, true) => use.Read<short>(v => v),
            (H5DataTypeClass.FixedPoint, 2, false) => use.Read<ushort>(v => v),
            (H5DataTypeClass.FixedPoint, 4, true) => use.Read<int>(v => v),
            (H5DataTypeClass.FixedPoint, 4, false) => use.Read<uint>(v => v),
            (H5DataTypeClass.FixedPoint, 8, true) => use.Read<long>(v => v),
            (H5DataTypeClass.FixedPoint, 8, false) => use.Read<ulong>(v => v),
            (H5DataTypeClass.FixedPoint, _, _) => throw new InvalidDataException($"unsupported {t.Size}-byte integer type"),
            _ => throw new InvalidDataException($"unsupported data type {t.Class} ({t.Size} bytes) where numbers are expected"),
        };
    }

    private sealed class SlabReader(IH5Dataset d) : IStoredNumbers<IEnumerable<(long At, double[] Values, int Count)>>
    {
        public IEnumerable<(long At, double[] Values, int Count)> Read<TIn>(Func<TIn, double> widen) where TIn : unmanaged => SlabsOf(d, widen);
    }

    private sealed class AttributeReader(IH5Attribute a) : IStoredNumbers<double[]>
    {
        public double[] Read<TIn>(Func<TIn, double> widen) where TIn : unmanaged => Conv(a.Read<TIn[]>(), widen);
    }

    private static IEnumerable<(long At, double[] Values, int Count)> SlabsOf<TIn>(IH5Dataset d, Func<TIn, double> widen) where TIn : unmanaged
    {
        var dims = Dims(d);
        if (dims.Length == 0 || dims.Aggregate(1UL, (a, b) => a * b) <= SlabElements)
        {
            // scalars and small datasets in one read
            var all = d.Read<TIn[]>();
            var values = new double[all.Length];
            for (int i = 0; i < all.Length; i++) values[i] = widen(all[i]);
            yield return (0, values, values.Length);
            yield break;
        }
        ulong rowSize = 1;
        for (int k = 1; k < dims.Length; k++) rowSize *= dims[k];
        ulong rowsPerSlab = Math.Max(1, (ulong)SlabElements / Math.Max(1, rowSize));
        TIn[]? buffer = null;
        double[]? wide = null;
        var start = new ulong[dims.Length];
        var block = (ulong[])dims.Clone();
        for (ulong row = 0; row < dims[0]; row += rowsPerSlab)
        {
            ulong rows = Math.Min(rowsPerSlab, dims[0] - row);
            int len = checked((int)(rows * rowSize));
            if (buffer == null || buffer.Length != len) { buffer = new TIn[len]; wide = new double[len]; }
            start[0] = row; block[0] = rows;
            d.Read(buffer, fileSelection: new HyperslabSelection(dims.Length, start, block), memoryDims: [(ulong)len]);
            for (int i = 0; i < len; i++) wide![i] = widen(buffer[i]);
            yield return ((long)(row * rowSize), wide!, len);
        }
    }

    /// <summary>A numeric attribute's values as float64 (attributes are small: read whole).</summary>
    private static double[] ToDoubles(IH5Attribute a) => WithStoredType(a.Type, new AttributeReader(a));

    private static double[] Conv<T>(T[] a, Func<T, double> f)
    {
        var d = new double[a.Length];
        for (int i = 0; i < d.Length; i++) d[i] = f(a[i]);
        return d;
    }

    /// <summary>Formats a numeric category label the way pandas prints it (integers without ".0").</summary>
    public static string FormatNumber(double v, bool integer) =>
        integer ? ((long)v).ToString(CultureInfo.InvariantCulture) : v.ToString("R", CultureInfo.InvariantCulture);
}
